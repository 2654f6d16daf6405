import type { StatRow } from "@portico/adapter-haproxy";
import { readNftablesState, renderNftables } from "@portico/adapter-nftables";
import type { Ip, LbNodeName } from "@portico/core";
import { parseConfig } from "@portico/core";
import { aConfig, aService, planOf, threeNodes } from "@portico/core/testing";
import { describe, expect, it } from "vitest";
import { ok } from "neverthrow";
import { announceStep, initialAnnounceState } from "../src/announce-step.js";
import { Announcer } from "../src/announcer.js";
import { cachedL4Tables } from "../src/l4-tables.js";
import { announcesL4, bothServe, l4MembersServe, l4ServesVip, servableVips } from "../src/servable.js";

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

describe("l4ServesVip", () => {
  const config = parseConfig({
    ...aConfig(),
    pools: [{ name: "default", addresses: ["198.18.100.10-198.18.100.50"], announce: "bgp" }],
    bgp: { asn: 64512, peers: [{ address: "198.18.1.254", asn: 64500 }] },
    nftables: { maglevTableSize: 251 },
  })._unsafeUnwrap();
  // A's port is served by nftables alone (direct), B's by HAProxy.
  const plan = planOf(
    [
      ...threeNodes(),
      aService({ name: "a", annotations: { "portico.dev/data-plane": "direct" } }),
      aService({ name: "b", created: "2026-01-02T00:00:00Z" }),
    ],
    config,
  );
  const lb1 = "lb1" as LbNodeName;
  const rows: StatRow[] = plan.frontends.flatMap((f) => [
    { proxy: f.id, name: "FRONTEND", type: "frontend" as const, status: "OPEN", sessions: 0 },
    { proxy: f.backend, name: "BACKEND", type: "backend" as const, status: "UP", sessions: 0 },
  ]);
  // The tables as the kernel would run them: rendered by the real renderer, read back by the real reader.
  const installed = (down: readonly string[]) =>
    readNftablesState(renderNftables(plan, { node: lb1, down: new Set(down) })._unsafeUnwrap());
  const workers = plan.l4Listeners![0]!.servers.map((s) => s.node as string);

  it("the plan has lb1 announce a VIP served by nftables only", () => {
    expect(plan.l4Listeners!.map((l) => l.vip)).toEqual([A]);
    expect(plan.frontends.map((f) => f.vip)).toEqual([B]);
    expect(announcesL4(plan, lb1)).toBe(true);
  });

  it("an L4 VIP is servable while its table is non-empty, and withdrawn when no node holds a slot", () => {
    expect(servableVips(plan, lb1, rows, l4ServesVip(plan, installed([])))).toEqual([A, B]);
    // One node left still fills the table.
    expect(servableVips(plan, lb1, rows, l4ServesVip(plan, installed(workers.slice(1))))).toEqual([A, B]);
    expect(servableVips(plan, lb1, rows, l4ServesVip(plan, installed(workers)))).toEqual([B]);
    // Tables not installed (nftables never applied, or the kernel lost them): not served either.
    expect(servableVips(plan, lb1, rows, l4ServesVip(plan, { listeners: [] }))).toEqual([B]);
  });

  it("the health loop's loaded verdicts say what the kernel's tables say, without reading them", () => {
    const check = plan.l4Listeners![0]!.healthCheck;
    expect(check.kind).toBe("track");
    const id = check.kind === "track" ? check.backend : "";
    const byCheck = (down: readonly string[]) =>
      readNftablesState(renderNftables(plan, { node: lb1, checkDown: new Map([[id, new Set(down)]]) })._unsafeUnwrap());
    for (const down of [[], workers.slice(1), workers]) {
      const loaded = l4MembersServe(plan, new Map([[id, new Set(down)]]));
      expect(servableVips(plan, lb1, rows, loaded)).toEqual(
        servableVips(plan, lb1, rows, l4ServesVip(plan, byCheck(down))),
      );
    }
    expect(servableVips(plan, lb1, rows, l4MembersServe(plan, new Map([[id, new Set(workers)]])))).toEqual([B]);
    // Another check's failures leave this table alone.
    expect(servableVips(plan, lb1, rows, l4MembersServe(plan, new Map([["other", new Set(workers)]])))).toEqual([A, B]);
    // Both says: an empty table by either is not served.
    const full = l4ServesVip(plan, byCheck([]));
    const empty = l4MembersServe(plan, new Map([[id, new Set(workers)]]));
    expect(servableVips(plan, lb1, rows, bothServe(full, empty))).toEqual([B]);
    expect(
      servableVips(plan, lb1, rows, bothServe(l4ServesVip(plan, byCheck(workers)), l4MembersServe(plan, new Map()))),
    ).toEqual([B]);
  });

  it("without the L4 data plane's word an L4-only VIP is never announced", () => {
    expect(servableVips(plan, lb1, rows)).toEqual([B]);
  });
});

describe("cachedL4Tables", () => {
  it("answers at once from the last read and reads again in the background once it is older than the period", async () => {
    let t = 0;
    const reads: number[] = [];
    let finish: (() => void) | undefined;
    const look = cachedL4Tables(
      "/nonexistent/nftables.conf",
      1000,
      async () =>
        await new Promise((resolve) => {
          reads.push(t);
          finish = () => resolve({ listeners: [] });
        }),
      () => t,
    );
    // No read has completed yet: no answer, and only one read runs however often it is asked.
    expect(await look()).toBeUndefined();
    expect(await look()).toBeUndefined();
    expect(reads).toEqual([0]);
    finish!();
    await new Promise((resolve) => setTimeout(resolve, 0));
    t = 999;
    expect(await look()).toEqual({ listeners: [] });
    expect(reads).toEqual([0]);
    t = 1000;
    expect(await look()).toEqual({ listeners: [] });
    expect(reads).toEqual([0, 1000]);
  });
});

describe("Announcer.nudge", () => {
  it("looks at once while the announcer runs, and not before start or after stop", async () => {
    let looks = 0;
    const announcer = new Announcer(
      {
        servable: async () => {
          looks += 1;
          return new Set<Ip>();
        },
        set: async () => ok(undefined),
        now: () => 0,
      },
      { pollMs: 60_000, upDelayMs: 0, missesToWithdraw: 3 },
    );
    announcer.nudge();
    await announcer.tick();
    expect(looks).toBe(1);
    announcer.start();
    announcer.nudge();
    await announcer.tick();
    expect(looks).toBe(3);
    await announcer.stop();
    announcer.nudge();
    await announcer.tick();
    expect(looks).toBe(4);
  });
});
