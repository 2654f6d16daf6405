// The lab's bounded client, run in a client namespace: connects to host:port again and again (at
// most <maxConnections>, for at most <maxMs>, <parallel> at a time), sends a line, reads the fake
// node's answer and prints one JSON ClientSummary. A "stop" line on stdin ends it early.
//   node client.js <host> <port> <maxConnections> <maxMs> <parallel> [<localAddress>]
import net from "node:net";
import type { ClientSummary } from "./programs.js";

const [host = "", port = "0", maxConnections = "0", maxMs = "0", parallel = "1", localAddress] = process.argv.slice(2);
const until = Date.now() + Number(maxMs);
let started = 0;
let stopped = false;
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d: string) => {
  if (d.split("\n").includes("stop")) stopped = true;
});
process.stdin.on("error", () => {});
const summary = {
  ok: 0,
  failed: 0,
  byNode: {} as Record<string, number>,
  errors: [] as string[],
  samples: [] as { local: string; seen: string | null; proxy: string }[],
} satisfies ClientSummary;

const once = (): Promise<void> =>
  new Promise((resolve) => {
    const sock = net.createConnection({ host, port: Number(port), ...(localAddress ? { localAddress } : {}) });
    let data = "";
    let local = "";
    const timer = setTimeout(() => sock.destroy(new Error("timeout after 5000 ms")), 5000);
    sock.on("connect", () => {
      local = `${sock.localAddress}:${sock.localPort}`;
      sock.write("hello\n");
    });
    sock.on("data", (d) => (data += String(d)));
    sock.on("error", (e) => {
      clearTimeout(timer);
      summary.failed += 1;
      if (summary.errors.length < 10) summary.errors.push(e.message);
      resolve();
    });
    sock.on("close", (hadError) => {
      clearTimeout(timer);
      if (hadError) return;
      try {
        const answer = JSON.parse(data.trim()) as { node: string; client: string | null; proxy: string };
        summary.ok += 1;
        summary.byNode[answer.node] = (summary.byNode[answer.node] ?? 0) + 1;
        if (summary.samples.length < 10) summary.samples.push({ local, seen: answer.client, proxy: answer.proxy });
      } catch {
        summary.failed += 1;
        if (summary.errors.length < 10) summary.errors.push(`bad answer ${JSON.stringify(data.slice(0, 80))}`);
      }
      resolve();
    });
  });

const worker = async (): Promise<void> => {
  while (!stopped && started < Number(maxConnections) && Date.now() < until) {
    started += 1;
    await once();
  }
};
await Promise.all(Array.from({ length: Number(parallel) }, worker));
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(0);
