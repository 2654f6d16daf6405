import { describe, expect, it } from "vitest";
import { LAST_GOOD_KEPT } from "../src/plan/lastGood.js";
import { READY_CONDITION } from "../src/plan/status.js";
import type { Plan } from "../src/plan/types.js";
import { aNode, aService, planOf } from "../src/testing/index.js";

// Keep the last good load balancer: a live Service (its status holds an address of our pools)
// whose new address request is invalid keeps its VIP and frontends, as the service controller
// keeps the existing load balancer on an error; one that is not live yet gets nothing, as before.

const node = aNode("n1", "198.18.2.1");
const live = (annotations: Record<string, string>) =>
  aService({ name: "web", created: "2026-01-01T00:00:00Z", statusIps: ["198.18.100.12"], annotations });
const younger = aService({ name: "late", created: "2026-01-02T00:00:00Z", annotations: {} });
const web = (p: Plan) => p.services.find((s) => s.key === "default/web")!;
const readyOf = (p: Plan) => web(p).status.conditions.find((c) => c.type === READY_CONDITION)!;

describe("keep the last good load balancer", () => {
  const good = planOf([node, live({})]);

  it.each([
    [
      "an unparsable load-balancer-ips",
      { "portico.dev/load-balancer-ips": "not-an-ip" },
      "portico.dev/load-balancer-ips",
    ],
    [
      "a load-balancer-ips outside every pool",
      { "portico.dev/load-balancer-ips": "198.18.250.1" },
      "portico.dev/load-balancer-ips",
    ],
    ["an unparsable pool", { "portico.dev/pool": "Not_A_Label" }, "portico.dev/pool"],
    ["a pool the config does not have", { "portico.dev/pool": "nowhere" }, "portico.dev/pool"],
  ])("%s on a live Service keeps its VIP and frontends, Ready=False naming the field", (_, annotations, field) => {
    const p = planOf([node, live(annotations), younger]);
    expect(web(p).vips).toEqual(web(good).vips);
    expect(web(p).frontends).toEqual(web(good).frontends);
    expect(p.frontends.filter((f) => f.service === "default/web")).toEqual(good.frontends);
    expect(web(p).status.loadBalancer.ingress).toEqual(web(good).status.loadBalancer.ingress);
    expect(readyOf(p)).toMatchObject({ status: "False", reason: LAST_GOOD_KEPT });
    expect(readyOf(p).message).toContain(`metadata.annotations[${field}]`);
    expect(readyOf(p).message).toContain("keeps the load balancer it has (198.18.100.12)");
    // The kept address is not handed to the younger Service.
    expect(p.services.find((s) => s.key === "default/late")!.vips).not.toContain("198.18.100.12");
  });

  it("the same invalid request on a Service that is not live yet gives it nothing, as before", () => {
    const p = planOf([node, aService({ name: "web", annotations: { "portico.dev/load-balancer-ips": "not-an-ip" } })]);
    expect(web(p)).toMatchObject({ state: "failed", vips: [], frontends: [] });
    expect(readyOf(p).reason).not.toBe(LAST_GOOD_KEPT);
  });

  it("a valid request on a live Service is followed: it moves to the requested address", () => {
    const p = planOf([node, live({ "portico.dev/load-balancer-ips": "198.18.100.20" })]);
    expect(web(p).vips).toEqual(["198.18.100.20"]);
    expect(readyOf(p).status).toBe("True");
  });
});
