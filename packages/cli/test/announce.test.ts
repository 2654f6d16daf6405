import type { StatRow } from "@portico/adapter-haproxy";
import type { Ip, LbNodeName } from "@portico/core";
import { parseConfig } from "@portico/core";
import { aConfig, aService, planOf, threeNodes } from "@portico/core/testing";
import { describe, expect, it } from "vitest";
import { announceStep, initialAnnounceState } from "../src/announce-step.js";
import { servableVips } from "../src/servable.js";

const A = "198.18.100.10" as Ip;
const B = "198.18.100.11" as Ip;

describe("announceStep", () => {
  it("announces a servable VIP only after the up-delay without a break, and withdraws at once", () => {
    let s = initialAnnounceState([]);
    const look = (servable: Ip[], now: number) => {
      const step = announceStep(s, [A, B], new Set(servable), now, 1000);
      s = step.state;
      return [step.announce, step.withdraw];
    };
    expect(look([A], 0)).toEqual([[], []]);
    expect(look([A], 999)).toEqual([[], []]);
    expect(look([A], 1000)).toEqual([[A], []]);
    // A break in servability restarts B's wait.
    expect(look([A, B], 1100)).toEqual([[], []]);
    expect(look([A], 1500)).toEqual([[], []]);
    expect(look([A, B], 1600)).toEqual([[], []]);
    expect(look([A, B], 2599)).toEqual([[], []]);
    expect(look([A, B], 2600)).toEqual([[B], []]);
    expect(look([B], 2625)).toEqual([[], [A]]);
    expect([...s.announced]).toEqual([B]);
  });

  it("keeps what BIRD already announces while it is servable, and withdraws what the plan dropped", () => {
    const s = initialAnnounceState([A, B]);
    const step = announceStep(s, [A], new Set([A, B]), 0, 1000);
    expect([step.announce, step.withdraw]).toEqual([[], [B]]);
    expect([...step.state.announced]).toEqual([A]);
  });
});

describe("servableVips", () => {
  const config = parseConfig({
    ...aConfig(),
    pools: [{ name: "default", addresses: ["198.18.100.10-198.18.100.50"], announce: "bgp" }],
    bgp: { asn: 64512, peers: [{ address: "198.18.1.254", asn: 64500 }] },
  })._unsafeUnwrap();
  const plan = planOf([...threeNodes(), aService({ name: "a" }), aService({ name: "b" })], config);
  const fe = (vip: string) => plan.frontends.find((f) => f.vip === vip)!;
  const rows = (frontendStatus: Record<string, string>, backendStatus: Record<string, string>): StatRow[] => [
    ...plan.frontends.map((f) => ({
      proxy: f.id,
      name: "FRONTEND",
      type: "frontend" as const,
      status: frontendStatus[f.vip] ?? "OPEN",
      sessions: 0,
    })),
    ...plan.frontends.map((f) => ({
      proxy: f.backend,
      name: "BACKEND",
      type: "backend" as const,
      status: backendStatus[f.vip] ?? "UP",
      sessions: 0,
    })),
  ];
  const lb1 = "lb1" as LbNodeName;

  it("a VIP is servable when its frontend is bound and its backend has a server up", () => {
    expect(servableVips(plan, lb1, rows({}, {}))).toEqual([A, B]);
    expect(servableVips(plan, lb1, rows({ [A]: "STOP" }, {}))).toEqual([B]);
    expect(servableVips(plan, lb1, rows({}, { [B]: "DOWN" }))).toEqual([A]);
    // HAProxy without the frontend at all (not yet reloaded): not servable.
    expect(
      servableVips(
        plan,
        lb1,
        rows({}, {}).filter((r) => r.proxy !== fe(A).id),
      ),
    ).toEqual([B]);
  });

  it("another data plane's word is asked too (the L4 table hook)", () => {
    expect(servableVips(plan, lb1, rows({}, {}), (vip) => vip !== B)).toEqual([A]);
  });
});
