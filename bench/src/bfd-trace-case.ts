// Figure 11, where a BFD failover's time goes: the BGP lab (packages/cli/test/e2e/bgp-lab.ts), its
// router's BIRD logging BFD and BGP state changes with millisecond times, tcpdump on the router's
// port to the LB node (the BFD control packets it receives from it), and `ip -ts monitor route` in
// the router's namespace. An LB node starts dropping every packet (t0); per run: t0 -> the last BFD
// packet the router received from it (negative: before t0), t0 -> BIRD's BFD session down, -> the
// BGP session down, -> the kernel's route replaced, -> the test's own poll seeing it gone.
// The LB nodes' BFD (Portico's bird.conf) is `intervalMs` x `multiplier`; the router's, by default
// the same, can be set apart to show whose settings the router's detection follows.
// Usage: node bfd-trace-case.js <runs> [<intervalMs> <multiplier> [<routerIntervalMs> <routerMultiplier>]]
//   -> one JSON line.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { start, type Started } from "@portico/host";
import { must, until } from "@portico/testkit/lab";
import { BgpLab, nexthopsOf, routerBird, VIP } from "../../packages/cli/test/e2e/bgp-lab.js";
import { report, requireTools, withCleanup, type CaseFigure } from "./_case.js";

const [runs = 3, intervalMs = 100, multiplier = 3, routerIntervalMs = intervalMs, routerMultiplier = multiplier] =
  process.argv.slice(2).map(Number);
await requireTools([
  ["bird", ["--version"]],
  ["haproxy", ["-v"]],
  ["nft", ["--version"]],
  ["tcpdump", ["--version"]],
]);

const LBS = ["198.18.1.1", "198.18.1.2", "198.18.1.3"];

/** Collect a child's stdout lines. */
const linesOf = (p: Started): string[] => {
  const lines: string[] = [];
  let rest = "";
  p.stdout!.on("data", (b: Buffer) => {
    rest += b.toString();
    const parts = rest.split("\n");
    rest = parts.pop() ?? "";
    lines.push(...parts);
  });
  return lines;
};

// BIRD's log lines "2026-12-02 01:50:00.123 <TRACE> ..." (local time, as `timeformat log` prints it).
const birdTime = (line: string): number | undefined => {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(line);
  return m === null ? undefined : new Date(`${m[1]}T${m[2]}`).getTime();
};
// `ip -ts monitor` lines "[2026-12-02T01:50:00.123456] ..." (local time).
const monitorTime = (line: string): number | undefined => {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\d*\]/.exec(line);
  return m === null ? undefined : new Date(m[1]!).getTime();
};

await withCleanup(async (cleanups) => {
  const lab = new BgpLab();
  cleanups.push(() => lab.down());
  const bfd = { intervalMs, multiplier };
  await lab.up(3, bfd);
  // The router's BIRD again, logging with millisecond times; debug flags are reconfigured in place.
  const log = join(lab.dir, "rt.log");
  const conf = [
    `log "${log}" all;`,
    `timeformat log "%F %T.%3f";`,
    "debug protocols { states, events };",
    routerBird(3, { intervalMs: routerIntervalMs, multiplier: routerMultiplier }),
  ].join("\n");
  await writeFile(join(lab.dir, "rt.conf"), conf);
  await must("birdc", ["-s", lab.routerSocket, "configure"]);
  await until("every route", async () => (await nexthopsOf(lab.rt, VIP)).length === 3, 30_000);

  const parts: Record<string, number[]> = { lastRx: [], bfdDown: [], bgpDown: [], kernel: [], polled: [] };
  for (let r = 0; r < runs; r++) {
    const i = r % 3;
    const lb = lab.lbs[i]!;
    const dump = (
      await start(
        "ip",
        ["netns", "exec", lab.rt, "tcpdump", "-l", "-n", "-tt", "-i", `l${i + 1}`, "udp", "and", "src", LBS[i]!],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap();
    const rx = linesOf(dump);
    const mon = (await start("ip", ["-n", lab.rt, "-ts", "monitor", "route"], { stdio: "pipe" }))._unsafeUnwrap();
    const routes = linesOf(mon);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const logFrom = (await readFile(log, "utf8")).length;
    const t0 = Date.now();
    await lab.blackhole(lb);
    await until("the route gone", async () => !(await nexthopsOf(lab.rt, VIP)).includes(LBS[i]!), 30_000, 2);
    const polled = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await dump.stop("SIGTERM", 2_000);
    await mon.stop("SIGTERM", 2_000);
    const logged = (await readFile(log, "utf8")).slice(logFrom).split("\n");
    const last = rx
      .map((l) => Number(/^(\d+\.\d+)/.exec(l)?.[1]) * 1000)
      .filter((t) => Number.isFinite(t) && t <= polled)
      .pop();
    const bfdDown = logged.find((l) => /bfd/i.test(l) && l.includes(LBS[i]!) && /Down/.test(l));
    const bgpDown = logged.find((l) => l.includes(`lb${i + 1}:`) && /State changed to (stop|down)/.test(l));
    const kernel = routes.find((l) => l.includes(`${VIP}`));
    parts["lastRx"]!.push(last === undefined ? NaN : last - t0);
    parts["bfdDown"]!.push((birdTime(bfdDown ?? "") ?? NaN) - t0);
    parts["bgpDown"]!.push((birdTime(bgpDown ?? "") ?? NaN) - t0);
    parts["kernel"]!.push((monitorTime(kernel ?? "") ?? NaN) - t0);
    parts["polled"]!.push(polled - t0);
    process.stderr.write(
      `run ${r + 1}: ${JSON.stringify(Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.at(-1)])))}\n` +
        `  bfd: ${bfdDown ?? "-"}\n  bgp: ${bgpDown ?? "-"}\n  kernel: ${kernel ?? "-"}\n`,
    );
    await must("ip", ["netns", "exec", lb.ns, "nft", "delete", "table", "inet", "dead"]);
    await until("the route back", async () => (await nexthopsOf(lab.rt, VIP)).length === 3, 60_000);
  }
  const tag =
    routerIntervalMs === intervalMs && routerMultiplier === multiplier
      ? `BFD ${intervalMs} ms x ${multiplier}`
      : `BFD ${intervalMs} ms x ${multiplier} on the LB nodes, ${routerIntervalMs} ms x ${routerMultiplier} on the router`;
  const figures: CaseFigure[] = [
    {
      name: `11. ${tag}: blackhole -> last BFD packet received from the LB node`,
      values: parts["lastRx"]!,
      unit: "ms",
    },
    { name: `11. ${tag}: blackhole -> router's BFD session down (BIRD log)`, values: parts["bfdDown"]!, unit: "ms" },
    { name: `11. ${tag}: blackhole -> router's BGP session down (BIRD log)`, values: parts["bgpDown"]!, unit: "ms" },
    {
      name: `11. ${tag}: blackhole -> route replaced in the kernel (ip monitor)`,
      values: parts["kernel"]!,
      unit: "ms",
    },
    { name: `11. ${tag}: blackhole -> route gone, seen by polling ip route`, values: parts["polled"]!, unit: "ms" },
  ];
  await lab.down();
  cleanups.pop();
  report({ figures });
});
