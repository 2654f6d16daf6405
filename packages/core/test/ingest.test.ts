import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ingest } from "../src/ingest.js";
import { aNode, aService, anEndpointSlice } from "../src/testing/index.js";

describe("ingest", () => {
  it("reads a kubectl List, typed lists and single objects alike", () => {
    const snap = ingest([
      { apiVersion: "v1", kind: "List", items: [aService({ name: "a" }), aNode("n1", "198.18.2.1")] },
      { apiVersion: "v1", kind: "ServiceList", items: [{ ...aService({ name: "b" }), kind: undefined }] },
      aService({ name: "c" }),
      anEndpointSlice("default", "a", [{ ip: "198.19.0.1", node: "n1" }]),
      null,
    ]);
    expect(snap.services.map((s) => s.key)).toEqual(["default/a", "default/b", "default/c"]);
    expect(snap.nodes.map((n) => n.name)).toEqual(["n1"]);
    expect(snap.endpointSlices[0]?.service).toBe("default/a");
    expect(snap.diagnostics).toEqual([]);
  });

  it("skips Services that are not load balancers without reading them further", () => {
    const snap = ingest([
      { ...aService({ type: "ClusterIP" }), spec: { type: "ClusterIP", ports: [{ port: "nonsense" }] } },
    ]);
    expect(snap.services).toEqual([]);
    expect(snap.diagnostics).toEqual([]);
  });

  it("drops a bad port with a diagnostic naming the field and keeps the rest", () => {
    const svc = aService({
      ports: [
        { port: 80, nodePort: 30080 },
        { port: 70000, nodePort: 30081 },
        { port: 81, nodePort: 30082, protocol: "QUIC" },
      ],
    });
    const snap = ingest([svc]);
    expect(snap.services[0]?.ports.map((p) => p.port)).toEqual([80]);
    expect(snap.diagnostics.map((d) => d.field)).toEqual(["spec.ports[1].port", "spec.ports[2].protocol"]);
    expect(snap.diagnostics[0]?.message).toContain(
      "Service default/web: spec.ports[1].port: 70000 is not a port number",
    );
  });

  it("refuses objects whose names are not Kubernetes names", () => {
    const snap = ingest([aService({ name: "web\nbackend evil" }), aNode("Bad_Node", "198.18.2.1")]);
    expect(snap.services).toEqual([]);
    expect(snap.nodes).toEqual([]);
    expect(snap.diagnostics.map((d) => d.reason)).toEqual(["InvalidObject", "InvalidObject"]);
  });

  it("reads only InternalIP addresses of nodes", () => {
    const node = aNode("n1", "198.18.2.1", { moreIps: ["2001:db8:2::1"] });
    (node["status"] as { addresses: unknown[] }).addresses.push({ type: "ExternalIP", address: "198.18.50.1" });
    expect(ingest([node]).nodes[0]?.internalIps).toEqual(["198.18.2.1", "2001:db8:2::1"]);
  });

  it("reads creation times with or without fractional seconds, to the second", () => {
    const a = aService({ name: "a", created: "2026-01-01T00:00:00.123Z" });
    const b = aService({ name: "b", created: "2026-01-01 00:00" });
    const snap = ingest([a, b]);
    expect(snap.services.map((s) => s.creationTimestamp)).toEqual(["2026-01-01T00:00:00Z", ""]);
    expect(snap.diagnostics.map((d) => d.field)).toEqual(["metadata.creationTimestamp"]);
  });

  it("never throws, whatever it is given", () => {
    fc.assert(
      fc.property(fc.array(fc.anything({ withObjectString: true, withNullPrototype: true })), (docs) => {
        ingest(docs);
        ingest([{ kind: "List", items: docs }]);
        ingest(
          docs.map((d) => ({
            kind: "Service",
            metadata: { name: "a", namespace: "b" },
            spec: { type: "LoadBalancer", ports: d },
          })),
        );
      }),
    );
  });
});
