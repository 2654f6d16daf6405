// Figure 13, UDP failover: the lab of the CLI's L4 failover test (packages/cli/test/e2e/l4-failover-lab.ts):
// one L2 segment (the test kit's l2Segment) of a client, two LB nodes running real keepalived
// (VRRPv3, the default 100 ms adverts) and the real nftables ruleset as Portico renders and applies
// them, and three fake nodes. One VIP carries a UDP Service through `nat` and one through `direct`.
// Two request/response loops run (udp-loop: a new socket per request, 20 source ports cycling, a
// request every 5 ms, each waiting at most 20 ms, so a figure is at most about 25 ms late). The master LB node then dies, `runs` times in
// each of two ways: hung (keepalived killed with SIGKILL, every packet dropped, link up: VRRP's
// failover proper) and link down (keepalived killed, link down: the switch floods the dead node's
// frames). Per run and mode: from the kill to the first answer to a request sent after the node
// was gone, and how many flows answered from another node than before the failure (goal 0). After
// each run the master is restored and takes the VIP back.
// Usage: node udp-failover-case.js <runs>  -> one JSON line.
import { udpLoop, until } from "@portico/testkit/lab";
import {
  CAP,
  DEATHS,
  DIRECT_PORT,
  failoverConfig as config,
  L4FailoverLab,
  NAT_PORT,
  VIP,
} from "../../packages/cli/test/e2e/l4-failover-lab.js";
import { report, requireTools, sleep, withCleanup, type CaseFigure } from "./_case.js";

const [runs = 0] = process.argv.slice(2).map(Number);
await requireTools([
  ["keepalived", ["--version"]],
  ["haproxy", ["-v"]],
  ["nft", ["--version"]],
  ["ip", ["-V"]],
]);

const PORTS = { nat: NAT_PORT, direct: DIRECT_PORT } as const;

await withCleanup(async (cleanups) => {
  const lab = new L4FailoverLab();
  cleanups.push(() => lab.destroy());
  await lab.start();
  const { master, backup } = lab;

  const loop = async (mode: keyof typeof PORTS, firstPort: number) => {
    const o = {
      mode: "fresh",
      firstPort,
      ports: 20,
      intervalMs: 5,
      timeoutMs: 20,
      maxCount: 8000,
      maxMs: 30_000,
    } as const;
    return { mode, ...(await udpLoop(lab.net.client, VIP, PORTS[mode], { ...o, waitFor: "ready", capMs: CAP })) };
  };
  const resumed: Record<string, number[]> = {};
  const moved: Record<string, number[]> = {};
  for (let r = 0; r < runs; r++)
    for (const [death, how] of Object.entries(DEATHS)) {
      const loops = [await loop("nat", 41000), await loop("direct", 43000)];
      await sleep(1_000);
      const t0 = Date.now();
      await lab.killKeepalived(master);
      await how.fail(lab.nsOf(master));
      const gone = Date.now();
      await until(`${VIP} on ${backup}`, async () => (await lab.holders()).includes(backup), CAP, 20);
      await sleep(1_000);
      for (const l of loops) {
        const result = await l.stop();
        const answered = result.answers.filter((a) => a.timeout === undefined);
        const before = new Map(answered.filter((a) => a.at! < t0).map((a) => [a.sport, a.node]));
        const after = answered.filter((a) => a.sentAt > gone);
        if (after.length === 0) throw new Error(`${l.mode}: no answer after the failure (${death})`);
        const key = `${l.mode}, ${death}`;
        (resumed[key] ??= []).push(after[0]!.at! - t0);
        (moved[key] ??= []).push(after.filter((a) => before.get(a.sport) !== a.node).length);
      }
      await how.mend(lab.nsOf(master));
      await lab.restore();
    }
  const advert = config.vrrp.advertIntMs;
  const figures: CaseFigure[] = [];
  for (const key of Object.keys(resumed)) {
    const hung = key.endsWith("hung");
    figures.push({
      name: `13. UDP failover (${key}): kill -9 of the master -> next answer (advert ${advert} ms)`,
      values: resumed[key]!,
      unit: "ms",
      ...(hung ? { goal: "< 350 ms" } : {}),
    });
    figures.push({
      name: `13. UDP failover (${key}): flows answered by another node than before`,
      values: moved[key]!,
      unit: "",
      goal: "0",
    });
  }
  report({ figures });
});
