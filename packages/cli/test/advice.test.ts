import { aNode, aParsedConfig, anEndpointSlice, aService, planOf } from "@portico/core/testing";
import { describe, expect, it } from "vitest";
import { advise } from "../src/advice.js";

describe("advise", () => {
  const objects = (affinity: "None" | "ClientIP") => [
    aNode("worker-1", "198.18.2.1"),
    aService({ name: "db", sessionAffinity: affinity, sessionAffinityTimeoutSeconds: 10_800 }),
    anEndpointSlice("default", "db", [{ ip: "198.19.0.1", node: "worker-1" }]),
  ];

  it("says that kube-proxy pins a ClientIP Service's traffic per LB node, for the affinity timeout", () => {
    const config = aParsedConfig();
    const advice = advise(planOf(objects("ClientIP"), config), config);
    const line = advice.find((a) => a.startsWith("default/db uses sessionAffinity: ClientIP"));
    expect(line).toContain("the LB node's, so everything one LB node sends to that node goes to one pod for 10800 s");
    expect(advise(planOf(objects("None"), config), config).some((a) => a.includes("sessionAffinity"))).toBe(false);
  });
});
