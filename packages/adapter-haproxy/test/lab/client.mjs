// The client of the data-plane tests: connects to host:port again and again (bounded by a count
// and a duration), sends a line, reads the fake node's answer, and prints one JSON summary.
// Usage: node client.mjs <host> <port> <maxConnections> <maxMs> <parallel> [localAddress]
import net from "node:net";

const [host, port, maxConnections, maxMs, parallel, localAddress] = process.argv.slice(2);
const until = Date.now() + Number(maxMs);
let started = 0;
// A "stop" line on stdin ends the loop early (the test's changes are done).
let stopped = false;
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  if (d.split("\n").includes("stop")) stopped = true;
});
process.stdin.on("error", () => {});
const summary = { ok: 0, failed: 0, byNode: {}, errors: [], samples: [] };

const once = () =>
  new Promise((resolve) => {
    const sock = net.createConnection({ host, port: Number(port), ...(localAddress ? { localAddress } : {}) });
    let data = "";
    let local;
    const timer = setTimeout(() => sock.destroy(new Error("timeout after 5000 ms")), 5000);
    sock.on("connect", () => {
      local = `${sock.localAddress}:${sock.localPort}`;
      sock.write("hello\n");
    });
    sock.on("data", (d) => (data += d));
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
        const answer = JSON.parse(data.trim());
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

const worker = async () => {
  while (!stopped && started < Number(maxConnections) && Date.now() < until) {
    started += 1;
    await once();
  }
};
await Promise.all(Array.from({ length: Number(parallel) }, worker));
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(0);
