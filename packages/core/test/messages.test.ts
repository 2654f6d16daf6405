import { describe, expect, it } from "vitest";
import { parseConfig, formatConfigIssues } from "../src/config.js";
import { ingest } from "../src/ingest.js";
import { plan } from "../src/plan/plan.js";
import { aNode, aService } from "../src/testing/index.js";

// Every error names the object, the field, and what would be accepted.

const CONFIG = {
  apiVersion: "portico.dev/v1alpha1",
  kind: "PorticoConfig",
  pools: [{ name: "default", addresses: ["198.18.100.10-198.18.100.50"] }],
  lbNodes: [{ name: "lb1", address: "198.18.1.1", interface: "eth0" }],
};

describe("error messages", () => {
  it("a bad pool address names the field and the accepted forms", () => {
    const r = parseConfig({ ...CONFIG, pools: [{ name: "default", addresses: ["x"] }] });
    expect(formatConfigIssues(r._unsafeUnwrapErr())).toBe(
      'pools[0].addresses[0]: "x" is not an IP address (accepted: an address, a first-last range or a CIDR, e.g. 198.18.100.10-198.18.100.50 or 2001:db8:100::/120)',
    );
  });

  it("a document without kind says what the input should hold", () => {
    const d = ingest([{ metadata: { name: "x" } }]).diagnostics[0];
    expect(d?.field).toBe("document[0]");
    expect(d?.message).toContain(
      "not a Kubernetes object (no kind); ignored (expected Services, Nodes and EndpointSlices, or a List of them",
    );
  });

  it("a bad object name says which kind of name is accepted", () => {
    const diagnostics = ingest([aService({ name: "Web" }), aNode("Bad_Node", "198.18.2.1")]).diagnostics;
    const svc = diagnostics.find((d) => d.object.kind === "Service");
    const node = diagnostics.find((d) => d.object.kind === "Node");
    expect(svc?.message).toBe(
      `Service with metadata.name "Web": not a valid Kubernetes name (a DNS-1123 label: lowercase letters, digits and '-', at most 63); object ignored`,
    );
    expect(node?.message).toBe(
      `Node with metadata.name "Bad_Node": not a valid Kubernetes name (a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253); object ignored`,
    );
  });

  it("a bad requested IP in the annotation names the Service, the annotation and the accepted form", () => {
    const cfg = parseConfig(CONFIG)._unsafeUnwrap();
    const p = plan(
      ingest([
        aService({ annotations: { "portico.dev/load-balancer-ips": "198.18.100.300" } }),
        aNode("n1", "198.18.2.1"),
      ]),
      cfg,
    );
    const d = p.diagnostics.find((x) => x.field === "metadata.annotations[portico.dev/load-balancer-ips]");
    expect(d?.message).toBe(
      'Service default/web: annotation portico.dev/load-balancer-ips: "198.18.100.300" is not an IPv4 address (accepted: one IPv4 and/or one IPv6 address, comma-separated); no address is assigned until it is fixed',
    );
  });

  it("every diagnostic of hostile Services names its object and field", () => {
    const cfg = parseConfig(CONFIG)._unsafeUnwrap();
    const bad = [
      aService({
        name: "a",
        annotations: {
          "portico.dev/balance": "fastest",
          "portico.dev/timeout-connect": "soon",
          "portico.dev/nonsense": "1",
        },
      }),
      {
        ...aService({ name: "b" }),
        spec: {
          type: "LoadBalancer",
          externalTrafficPolicy: "Sometimes",
          sessionAffinity: "Sticky",
          ports: [{ port: 0, nodePort: 30000 }],
        },
      },
      {
        ...aService({ name: "c" }),
        spec: {
          type: "LoadBalancer",
          loadBalancerSourceRanges: ["10.0.0.0/33"],
          ports: [{ port: 80, nodePort: 30001, protocol: "QUIC" }],
        },
      },
    ];
    const p = plan(ingest([...bad, aNode("n1", "198.18.2.1")]), cfg);
    expect(p.diagnostics.length).toBeGreaterThanOrEqual(7);
    for (const d of p.diagnostics) {
      expect(d.message, d.message).toMatch(/^Service default\/[abc]: /);
      if (d.severity !== "info") expect(d.field, d.message).toBeDefined();
    }
  });
});
