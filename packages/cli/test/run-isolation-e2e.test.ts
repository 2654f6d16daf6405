import { aService } from "@portico/core/testing";
import { describeWith, program, root, until } from "@portico/testkit";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { ingressOf, sayer, type Obj } from "./e2e/harness.js";
import { installedCfg, loopFrom, trafficFrom } from "./e2e/one-lb.js";
import { OneLbRun } from "./e2e/one-lb-run.js";

// Issue case 1 under `portico run`: two real 63-character names whose 64-bit frontend ids
// collide (found by a rho search). Before the planner checked identifiers, the second made every
// render fail, so no Service anywhere changed again. Now the younger alone fails, with a condition
// and a Warning Event naming the identifier, and Services added afterwards are still served.
// The lab is e2e/one-lb.ts's: one LB node with a real HAProxy, two fake nodes, a client namespace.

const POOL = ["198.18.100.10", "198.18.100.11", "198.18.100.12", "198.18.100.13"] as const;
const NODES = ["node1", "node2"] as const;
const OLDER = "checkout-frontend-for-the-spring-sale-campaign-79a93c2990e0e760";
const YOUNGER = "checkout-frontend-for-the-spring-sale-campaign-ef4c6cd101e944e7";
const say = sayer("portico run isolation e2e");
/** A safety cap on each wait (a loaded 2-core machine is slow), never a target. */
const CAP = 30_000;

const conditionsOf = (o: Obj | undefined): Obj[] =>
  ((((o?.["status"] ?? {}) as Obj)["conditions"] ?? []) as Obj[]).filter((c) => typeof c === "object");

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), root],
  "portico run with two Services whose frontend ids collide (real HAProxy, real traffic)",
  () => {
    const lab = new OneLbRun({ prefix: "portico-isolation-e2e-", pool: POOL, nodes: NODES, capMs: CAP });
    const server = () => lab.server();
    const vipOf = (name: string): string | undefined => ingressOf(server().get("Service", "default", name))[0]?.ip;

    beforeAll(
      () =>
        lab.start((api) => {
          api.put(aService({ name: "web", created: "2026-01-01T00:00:00Z" }));
          api.put(aService({ name: OLDER, created: "2026-01-02T00:00:00Z" }));
        }),
      90_000,
    );
    afterAll(() => lab.stop(), 30_000);

    it("the younger Service fails alone with a condition and an Event; the others keep serving and a later Service is served", async () => {
      onTestFailed(() => say(`portico logs:\n${lab.logs()}`));
      await until(
        "web and the older Service serving",
        () => vipOf("web") !== undefined && vipOf(OLDER) !== undefined,
        CAP,
      );
      const web = vipOf("web")!;
      const older = vipOf(OLDER)!;
      await until(
        "both VIPs answering",
        async () =>
          (await trafficFrom(lab.client, web, 2)).ok === 2 && (await trafficFrom(lab.client, older, 2)).ok === 2,
        CAP,
      );
      const loops = [await loopFrom(lab.client, web, 40_000), await loopFrom(lab.client, older, 40_000)];
      const cfgBefore = await installedCfg(lab.dir);
      const frontend = /^frontend (fe_default_checkout_\S+)$/m.exec(cfgBefore)?.[1];
      expect(frontend).toBe("fe_default_checkout_frontend_for_the_spring_sa_078cc8887a320c2f");

      server().put(aService({ name: YOUNGER, created: "2026-01-03T00:00:00Z" }));
      await until(
        "the younger Service's condition",
        () =>
          conditionsOf(server().get("Service", "default", YOUNGER)).some(
            (c) => c["reason"] === "IdentifierCollision" && c["status"] === "False",
          ),
        CAP,
      );
      // Applies go on: a Service added after the collision is served.
      server().put(aService({ name: "later", created: "2026-01-04T00:00:00Z" }));
      await until(
        "later serving",
        async () => {
          const vip = vipOf("later");
          return vip !== undefined && (await trafficFrom(lab.client, vip, 2)).ok === 2;
        },
        CAP,
      );
      const summaries = await Promise.all(loops.map((l) => l.stop()));

      const ready = conditionsOf(server().get("Service", "default", YOUNGER)).find(
        (c) => c["type"] === "portico.dev/LoadBalancerReady",
      );
      expect(String(ready?.["message"])).toContain(
        `metadata.name: the derived identifier ${frontend} is already used by the older Service default/${OLDER}`,
      );
      expect(ingressOf(server().get("Service", "default", YOUNGER))).toEqual([]);
      const events = server()
        .list("Event")
        .filter(
          (e) => e["reason"] === "SyncLoadBalancerFailed" && String(e["message"]).includes("IdentifierCollision"),
        );
      expect(events.length).toBeGreaterThan(0);
      const cfg = await installedCfg(lab.dir);
      expect(cfg.match(new RegExp(`^frontend ${frontend}$`, "gm"))).toHaveLength(1);
      for (const s of summaries) {
        expect(s.failed, s.errors.join("; ")).toBe(0);
        expect(s.ok).toBeGreaterThan(10);
      }
      say(
        `collision: ${YOUNGER} failed with IdentifierCollision; web and ${OLDER} answered ${summaries.map((s) => s.ok).join(" + ")} connections meanwhile, 0 failed; later served on ${vipOf("later")}`,
      );
    }, 90_000);
  },
);
