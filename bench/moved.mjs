// A probe for the convergence benchmark, run in the client namespace: connects to host:port one
// connection at a time (bounded by maxMs), reads which fake node answered, and on a "stop" line on
// stdin prints one JSON line: every answer as [start ms, end ms, node or null]. Prints "ready" at
// its first answer.
// Usage: node moved.mjs <host> <port> <maxMs>
import net from "node:net";

const [host, port, maxMs] = process.argv.slice(2);
const until = Date.now() + Number(maxMs);
const answers = [];
let stopped = false;
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  if (d.split("\n").includes("stop")) stopped = true;
});
process.stdin.on("error", () => {});

const once = () =>
  new Promise((resolve) => {
    const sock = net.createConnection({ host, port: Number(port) });
    let data = "";
    const timer = setTimeout(() => sock.destroy(new Error("timeout")), 2000);
    sock.on("connect", () => sock.write("hello\n"));
    sock.on("data", (d) => (data += d));
    sock.on("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
    sock.on("close", (hadError) => {
      clearTimeout(timer);
      if (hadError) return;
      try {
        resolve(JSON.parse(data.trim()).node);
      } catch {
        resolve(null);
      }
    });
  });

let ready = false;
while (!stopped && Date.now() < until) {
  const t0 = Date.now();
  const node = await once();
  answers.push([t0, Date.now(), node]);
  if (!ready && node !== null) {
    ready = true;
    process.stdout.write("ready\n");
  }
  await new Promise((r) => setTimeout(r, 2));
}
process.stdout.write(`${JSON.stringify({ answers })}\n`);
process.exit(0);
