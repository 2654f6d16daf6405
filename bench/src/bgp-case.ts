// Figure 11, BGP ECMP: the BGP lab of the CLI's tests (packages/cli/test/e2e/bgp-lab.ts, bundled
// here so tests and benchmark run one lab): a router namespace running BIRD with 5-tuple ECMP into
// its kernel, a client, three LB namespaces running HAProxy and BIRD as Portico renders them.
// Measured: the spread of `flows` connections over the LB nodes (max/min); failover, from the
// moment an LB node drops every packet to its route leaving the router's kernel table, with BFD
// 100 ms x 3 and, in a second lab, without BFD (hold time 9 s); withdraw and announce latency of
// one VIP (birdc disable/enable on an LB node -> the router's kernel table); and the flows whose
// LB node changes when one of three next hops is removed or added, with the router's plain
// multipath route and with a resilient next-hop group, for 1,000 5-tuples, read from the router's
// own forwarding decisions (`ip route get ... ipproto tcp sport <p>`). Through HAProxy each such
// flow is reset, so the last figures are the `proxy` data plane's resets. For `direct`, two fake
// nodes on the router's bridge and the same Maglev ruleset on every LB node: `flows` held TCP
// flows while lb3 leaves and joins (plain multipath and a resilient group), each asked once more
// afterwards; the flows reset (or answered by another node) are `direct`'s resets.
// Usage: node bgp-case.js <runs> <flows>  -> one JSON line.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setAnnounced } from "@portico/adapter-bird";
import type { Ip } from "@portico/core";
import { run } from "@portico/host";
import { must, traffic, until } from "@portico/testkit/lab";
import { BgpLab, nexthopsOf, VIP } from "../../packages/cli/test/e2e/bgp-lab.js";
import { directOverEcmp, directPlan, installDirect, type EcmpChange } from "../../packages/cli/test/e2e/direct-ecmp.js";
import { report, requireTools, withCleanup, type CaseFigure } from "./_case.js";

const [runs = 1, flows = 1000] = process.argv.slice(2).map(Number);
await requireTools([
  ["bird", ["--version"]],
  ["haproxy", ["-v"]],
  ["nft", ["--version"]],
  ["ip", ["-V"]],
]);

const LBS = ["198.18.1.1", "198.18.1.2", "198.18.1.3"];

// Time from `act` to `done` holding, polled every 2 ms.
const timed = async (what: string, act: () => Promise<unknown>, done: () => Promise<boolean>): Promise<number> => {
  const t0 = performance.now();
  await act();
  await until(what, done, 30_000, 2);
  return performance.now() - t0;
};

const blackholeAndBack = async (lab: BgpLab, i: number): Promise<number> => {
  const lb = lab.lbs[i]!;
  const ms = await timed(
    "the route gone",
    () => lab.blackhole(lb),
    async () => !(await nexthopsOf(lab.rt, VIP)).includes(LBS[i]!),
  );
  await must("ip", ["netns", "exec", lb.ns, "nft", "delete", "table", "inet", "dead"]);
  await until("the route back", async () => (await nexthopsOf(lab.rt, VIP)).length === LBS.length, 60_000);
  return ms;
};

// Which next hop the router picks for `count` TCP flows from the client to the VIP, by source port.
const pathsOf = async (lab: BgpLab, vip: string, count: number): Promise<string[]> => {
  const file = join(lab.dir, "route-get.batch");
  const lines = Array.from(
    { length: count },
    (_, p) => `route get ${vip} from 198.18.10.2 iif c0 ipproto tcp sport ${20_000 + p} dport 80`,
  );
  await writeFile(file, `${lines.join("\n")}\n`);
  const out = (await run("ip", ["-n", lab.rt, "-batch", file], { timeoutMs: 60_000 }))._unsafeUnwrap().stdout;
  return out
    .split("\n")
    .filter((l) => l.startsWith(vip))
    .map((l) => /via (\S+)/.exec(l)?.[1] ?? "?");
};

// Of the flows whose next hop stays in the set, the share that moved to another one.
const movedShare = (before: readonly string[], after: readonly string[], gone?: string): number => {
  let stayed = 0;
  let moved = 0;
  before.forEach((b, i) => {
    if (b === gone) return;
    stayed += 1;
    if (after[i] !== b) moved += 1;
  });
  return stayed === 0 ? 0 : (100 * moved) / stayed;
};

await withCleanup(async (cleanups) => {
  const figures: CaseFigure[] = [];
  const lab = new BgpLab();
  cleanups.push(() => lab.down());
  await lab.up(3, { intervalMs: 100, multiplier: 3 }, 2);

  const s = await traffic(lab.client, VIP, 80, { count: flows, maxMs: 60_000, parallel: 4 });
  const counts = ["lb1", "lb2", "lb3"].map((n) => s.byNode[n] ?? 0);
  figures.push({
    name: `9. BGP ECMP: ${flows} flows over 3 LB nodes: max/min per LB node (${counts.join("/")}, ${s.failed} failed)`,
    values: [Math.max(...counts) / Math.max(1, Math.min(...counts))],
    unit: "",
  });

  const withdraw: number[] = [];
  const announce: number[] = [];
  const lb1 = lab.lbs[0]!;
  for (let r = 0; r < Math.max(3, runs * 3); r++) {
    withdraw.push(
      await timed(
        "withdrawn",
        async () => (await setAnnounced(VIP as Ip, false, { socket: lb1.birdSocket }))._unsafeUnwrap(),
        async () => !(await nexthopsOf(lab.rt, VIP)).includes(LBS[0]!),
      ),
    );
    announce.push(
      await timed(
        "announced",
        async () => (await setAnnounced(VIP as Ip, true, { socket: lb1.birdSocket }))._unsafeUnwrap(),
        async () => (await nexthopsOf(lab.rt, VIP)).includes(LBS[0]!),
      ),
    );
  }
  figures.push({
    name: "9. BGP: withdraw one VIP (birdc disable) -> gone from the router's kernel table",
    values: withdraw,
    unit: "ms",
  });
  figures.push({
    name: "9. BGP: announce one VIP (birdc enable) -> in the router's kernel table",
    values: announce,
    unit: "ms",
  });

  // direct: held flows while lb3 leaves and joins; from here on the VIP's port 80 is `direct`'s.
  await installDirect(lab, directPlan(lab, lab.config));
  const held = Math.min(flows, 200);
  const d = await directOverEcmp(lab, held);
  const resets = (c: EcmpChange) => [c.reset + c.timeout + c.nodeMoved];
  const movedOf = (c: EcmpChange) => `${c.lbMoved} changed LB node, ${c.lbMovedOfStaying} of a staying one`;
  for (const [what, c] of [
    ["1 of 3 leaves: plain multipath", d.plainLeave],
    ["a 3rd joins 2: plain multipath", d.plainJoin],
    ["1 of 3 leaves: resilient next-hop group", d.resilientLeave],
    ["a 3rd joins 2: resilient next-hop group", d.resilientJoin],
  ] as const)
    figures.push({
      name: `9. direct: ${held} held TCP flows reset when ${what} (${movedOf(c)})`,
      values: resets(c),
      unit: "flows",
      goal: "0",
    });

  // Flows moved, plain multipath (BIRD's route): withdraw lb3, then announce it again.
  const three = await pathsOf(lab, VIP, 1000);
  const lb3 = lab.lbs[2]!;
  (await setAnnounced(VIP as Ip, false, { socket: lb3.birdSocket }))._unsafeUnwrap();
  await until("lb3 gone", async () => !(await nexthopsOf(lab.rt, VIP)).includes(LBS[2]!));
  const two = await pathsOf(lab, VIP, 1000);
  (await setAnnounced(VIP as Ip, true, { socket: lb3.birdSocket }))._unsafeUnwrap();
  await until("lb3 back", async () => (await nexthopsOf(lab.rt, VIP)).includes(LBS[2]!));
  const back = await pathsOf(lab, VIP, 1000);
  // The same next hops as a resilient group, on an address BIRD does not manage.
  const R = "198.18.100.60";
  for (const [id, via] of LBS.entries())
    await must("ip", ["-n", lab.rt, "nexthop", "add", "id", String(id + 1), "via", via, "dev", "br0"]);
  const group = (ids: string) => [
    "-n",
    lab.rt,
    "nexthop",
    "replace",
    "id",
    "100",
    "group",
    ids,
    "type",
    "resilient",
    "buckets",
    "128",
    "idle_timer",
    "0",
  ];
  await must("ip", group("1/2/3"));
  await must("ip", ["-n", lab.rt, "route", "add", `${R}/32`, "nhid", "100"]);
  const rThree = await pathsOf(lab, R, 1000);
  await must("ip", group("1/2"));
  const rTwo = await pathsOf(lab, R, 1000);
  await must("ip", group("1/2/3"));
  const rBack = await pathsOf(lab, R, 1000);
  const unit = "% of the flows of the other LB nodes";
  figures.push({
    name: "9. flows moved on the other LB nodes when 1 of 3 leaves: plain multipath (proxy: reset)",
    values: [movedShare(three, two, LBS[2])],
    unit,
  });
  figures.push({
    name: "9. flows moved on the other LB nodes when 1 of 3 leaves: resilient next-hop group",
    values: [movedShare(rThree, rTwo, LBS[2])],
    unit,
  });
  figures.push({
    name: "9. flows moved when a 3rd LB node joins 2: plain multipath (proxy: reset)",
    values: [movedShare(two, back)],
    unit: "% of all flows",
  });
  figures.push({
    name: "9. flows moved when a 3rd LB node joins 2: resilient next-hop group",
    values: [movedShare(rTwo, rBack)],
    unit: "% of all flows",
  });

  const bfd: number[] = [];
  for (let r = 0; r < runs; r++) bfd.push(await blackholeAndBack(lab, r % 3));
  figures.push({
    name: "9. BGP failover: LB node drops every packet -> its route gone at the router, BFD 100 ms x 3",
    values: bfd,
    unit: "ms",
    goal: "< 300 ms",
  });
  await lab.down();
  cleanups.pop();

  const fast = new BgpLab();
  cleanups.push(() => fast.down());
  await fast.up(3, { intervalMs: 50, multiplier: 3 });
  const fastMs: number[] = [];
  for (let r = 0; r < runs; r++) fastMs.push(await blackholeAndBack(fast, r % 3));
  figures.push({ name: "9. BGP failover, BFD 50 ms x 3", values: fastMs, unit: "ms", goal: "< 150 ms (stretch)" });
  await fast.down();
  cleanups.pop();

  const slow = new BgpLab();
  cleanups.push(() => slow.down());
  await slow.up(3, "off");
  const hold: number[] = [];
  for (let r = 0; r < runs; r++) hold.push(await blackholeAndBack(slow, r % 3));
  figures.push({ name: "9. BGP failover without BFD (hold time 9 s, keepalive 3 s)", values: hold, unit: "ms" });
  report({ figures });
});
