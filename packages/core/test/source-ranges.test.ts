import { describe, expect, it } from "vitest";
import { aService, planOf, threeNodes } from "../src/testing/index.js";
import { svc } from "./_fixtures.js";

describe("loadBalancerSourceRanges", () => {
  it("canonicalises both families (host bits masked, trimmed, deduplicated, sorted) onto every frontend", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ loadBalancerSourceRanges: [" 2001:DB8::1/32", "198.18.5.7/16", "198.18.0.0/16", "10.0.0.1/32"] }),
    ]);
    expect(p.frontends[0]?.sourceRanges).toEqual(["10.0.0.1/32", "198.18.0.0/16", "2001:db8::/32"]);
  });

  it("falls back to the legacy annotation, and fails closed on a bad range", () => {
    const legacy = planOf([
      ...threeNodes(),
      aService({
        annotations: { "service.beta.kubernetes.io/load-balancer-source-ranges": "198.18.9.0/24, 198.18.8.0/24" },
      }),
    ]);
    expect(legacy.frontends[0]?.sourceRanges).toEqual(["198.18.8.0/24", "198.18.9.0/24"]);
    const bad = planOf([
      ...threeNodes(),
      aService({ name: "bad", loadBalancerSourceRanges: ["198.18.0.0/33"] }),
      aService({ name: "ok", created: "2026-02-01T00:00:00Z" }),
    ]);
    expect(svc(bad, "default/bad")).toMatchObject({ state: "failed", vips: [] });
    expect(svc(bad, "default/bad").status.conditions[0]?.reason).toBe("InvalidSourceRanges");
    expect(svc(bad, "default/ok").state).toBe("ready");
  });
});
