import { describe, expect, it } from "vitest";
import { aService, planOf, threeNodes } from "../src/testing/index.js";
import { reasons, svc, TWO_POOLS } from "./_fixtures.js";

describe("IPAM: several pools, requests, autoAssign, namespaces, selectors", () => {
  it("skips autoAssign: false pools and pools whose namespaces or selector exclude the Service", () => {
    const p = planOf(
      [
        ...threeNodes(),
        aService({ namespace: "team-a", name: "a" }),
        aService({ namespace: "team-b", name: "b", labels: { tier: "edge" } }),
      ],
      TWO_POOLS,
    );
    expect(svc(p, "team-a/a").vips).toEqual(["198.18.100.10"]);
    expect(svc(p, "team-b/b").vips).toEqual(["198.18.100.11"]);
  });

  it("honours portico.dev/pool, including autoAssign: false and namespace-restricted pools, and refuses one that excludes the Service", () => {
    const p = planOf(
      [
        ...threeNodes(),
        aService({ name: "reserved", annotations: { "portico.dev/pool": "reserved" } }),
        aService({ namespace: "team-a", name: "mine", annotations: { "portico.dev/pool": "team-a" } }),
        aService({ name: "not-mine", annotations: { "portico.dev/pool": "team-a" } }),
        aService({ name: "edge", labels: { tier: "edge" }, annotations: { "portico.dev/pool": "edge" } }),
        aService({ name: "nowhere", annotations: { "portico.dev/pool": "nowhere" } }),
      ],
      TWO_POOLS,
    );
    expect(svc(p, "default/reserved").vips).toEqual(["198.18.101.0"]);
    expect(svc(p, "team-a/mine").vips).toEqual(["198.18.102.0"]);
    expect(svc(p, "default/edge").vips).toEqual(["198.18.103.0"]);
    expect(svc(p, "default/not-mine")).toMatchObject({ state: "failed", vips: [] });
    expect(svc(p, "default/not-mine").status.conditions[0]).toMatchObject({
      status: "False",
      reason: "PoolNotAllowed",
    });
    expect(svc(p, "default/nowhere").status.conditions[0]).toMatchObject({ status: "False", reason: "PoolNotFound" });
  });

  it("gives a requested address (annotation over spec.loadBalancerIP) and never a different one", () => {
    const p = planOf(
      [
        ...threeNodes(),
        aService({
          name: "annotated",
          annotations: { "portico.dev/load-balancer-ips": "198.18.101.2" },
          loadBalancerIP: "198.18.100.12",
        }),
        aService({ name: "spec", loadBalancerIP: "198.18.100.12" }),
        aService({ name: "outside", loadBalancerIP: "203.0.113.9" }),
        aService({ name: "garbled", annotations: { "portico.dev/load-balancer-ips": "198.18.100.300" } }),
        aService({ name: "wrong-family", annotations: { "portico.dev/load-balancer-ips": "2001:db8:100::2" } }),
      ],
      TWO_POOLS,
    );
    expect(svc(p, "default/annotated").vips).toEqual(["198.18.101.2"]);
    expect(reasons(p, "default/annotated")).toContain("LoadBalancerIPIgnored");
    expect(svc(p, "default/spec").vips).toEqual(["198.18.100.12"]);
    for (const [name, reason] of [
      ["outside", "AddressNotInPool"],
      ["garbled", "InvalidAddressRequest"],
      ["wrong-family", "RequestedFamilyNotServed"],
    ] as const) {
      expect(svc(p, `default/${name}`)).toMatchObject({ state: "failed", vips: [] });
      expect(svc(p, `default/${name}`).status.conditions[0]).toMatchObject({ status: "False", reason });
    }
  });

  it("gives a contested request to the older Service and an error to the younger, others unaffected", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ name: "young", created: "2026-02-01T00:00:00Z", loadBalancerIP: "198.18.100.20" }),
      aService({ name: "old", created: "2026-01-01T00:00:00Z", loadBalancerIP: "198.18.100.20" }),
      aService({ name: "other", created: "2026-01-15T00:00:00Z" }),
    ]);
    expect(svc(p, "default/old").vips).toEqual(["198.18.100.20"]);
    expect(svc(p, "default/young").status.conditions[0]).toMatchObject({ status: "False", reason: "AddressInUse" });
    expect(svc(p, "default/other")).toMatchObject({ state: "ready", vips: ["198.18.100.10"] });
  });
});
