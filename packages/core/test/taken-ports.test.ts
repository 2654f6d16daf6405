import { describe, expect, it } from "vitest";
import type { Ip, Port } from "../src/model.js";
import { READY_CONDITION } from "../src/plan/status.js";
import { PORT_IN_USE, withoutTakenPorts } from "../src/plan/takenPorts.js";
import type { Plan } from "../src/plan/types.js";
import { aNode, aParsedConfig, aService, planOf } from "../src/testing/index.js";

// A port an LB node already uses (sshd on 0.0.0.0:22, node_exporter): the Service port on it gets
// no frontend and says why; every other port and Service is planned as without it.

const objects = [
  aNode("n1", "198.18.2.1"),
  aService({
    name: "both",
    created: "2026-01-01T00:00:00Z",
    ports: [
      { port: 22, nodePort: 30022 },
      { port: 80, nodePort: 30080 },
    ],
  }),
  aService({ name: "ssh", created: "2026-01-02T00:00:00Z", ports: [{ port: 22, nodePort: 30023 }] }),
  aService({ name: "web", created: "2026-01-03T00:00:00Z" }),
];
const sp = (p: Plan, name: string) => p.services.find((s) => s.key === `default/${name}`)!;
const readyOf = (p: Plan, name: string) => sp(p, name).status.conditions.find((c) => c.type === READY_CONDITION)!;

describe("ports an LB node already uses", () => {
  const free = planOf(objects);
  const reserved = planOf(objects, aParsedConfig({ reservedPorts: [22] }));

  it("config reservedPorts: a Service port on one gets no frontend and a PortInUse condition; a Service left with none fails", () => {
    expect(reserved.frontends.map((f) => f.port)).toEqual(reserved.frontends.map(() => 80));
    expect(sp(reserved, "both").state).toBe("partial");
    expect(readyOf(reserved, "both")).toMatchObject({ status: "True", reason: PORT_IN_USE });
    expect(readyOf(reserved, "both").message).toBe(
      "Service default/both: port already in use on the LB node: 198.18.100.10:22 (reservedPorts)",
    );
    expect(sp(reserved, "both").status.loadBalancer.ingress[0]!.ports).toEqual([
      { port: 22, protocol: "TCP", error: "portico.dev/PortInUse" },
      { port: 80, protocol: "TCP" },
    ]);
    expect(sp(reserved, "ssh")).toMatchObject({ state: "failed", frontends: [] });
    expect(sp(reserved, "ssh").status.loadBalancer.ingress).toEqual([]);
    expect(readyOf(reserved, "ssh")).toMatchObject({ status: "False", reason: PORT_IN_USE });
  });

  it("every other Service is planned exactly as without the reserved port", () => {
    expect(sp(reserved, "web")).toEqual(sp(free, "web"));
    expect(reserved.frontends.filter((f) => f.service === "default/web")).toEqual(
      free.frontends.filter((f) => f.service === "default/web"),
    );
    expect(reserved.backends.filter((b) => b.service === "default/web")).toEqual(
      free.backends.filter((b) => b.service === "default/web"),
    );
    // No backend is left without a frontend.
    const used = new Set(reserved.frontends.map((f) => f.backend));
    expect(reserved.backends.every((b) => used.has(b.id))).toBe(true);
  });

  it("a listener on one address takes the port on that address only", () => {
    const vip = sp(free, "ssh").vips[0]!;
    const p = withoutTakenPorts(free, [{ port: 22 as Port, address: vip as Ip, owner: "a listener on it" }]);
    expect(sp(p, "ssh").state).toBe("failed");
    expect(sp(p, "both")).toEqual(sp(free, "both"));
  });

  it("nothing taken: the plan itself", () => {
    expect(withoutTakenPorts(free, [])).toBe(free);
    expect(withoutTakenPorts(free, [{ port: 9999 as Port, owner: "x" }])).toBe(free);
  });
});

describe("LoadBalancerPortsError for ports an LB node uses", () => {
  it("a Service port refused as in use sets LoadBalancerPortsError naming it; one left with no port publishes none", () => {
    const p = planOf(objects, aParsedConfig({ reservedPorts: [22] }));
    const both = p.services.find((s) => s.key === "default/both")!;
    expect(both.status.conditions.find((c) => c.type === "LoadBalancerPortsError")).toMatchObject({
      status: "True",
      reason: "LoadBalancerPortsNotServed",
      message: "ports not served: 22/TCP (portico.dev/PortInUse)",
    });
    const web = p.services.find((s) => s.key === "default/web")!;
    expect(web.status.conditions.map((c) => c.type)).not.toContain("LoadBalancerPortsError");
  });
});
