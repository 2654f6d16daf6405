// Probe for the end-to-end test: tries host:port every 5 ms (bounded by maxMs) until a fake node
// answers, then prints `connected <epoch ms> <node>` and exits. Prints "ready" once it starts.
// Usage: node first-connect.mjs <host> <port> <maxMs>
import net from "node:net";

const [host, port, maxMs] = process.argv.slice(2);
const until = Date.now() + Number(maxMs);
let attempts = 0;

const once = () =>
  new Promise((resolve) => {
    attempts += 1;
    const sock = net.createConnection({ host, port: Number(port) });
    let data = "";
    const timer = setTimeout(() => sock.destroy(new Error("timeout")), 2000);
    sock.on("connect", () => sock.write("hello\n"));
    sock.on("data", (d) => (data += d));
    sock.on("error", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    sock.on("close", (hadError) => {
      clearTimeout(timer);
      if (hadError) return;
      try {
        resolve(JSON.parse(data.trim()).node);
      } catch {
        resolve(undefined);
      }
    });
  });

process.stdout.write("ready\n");
while (Date.now() < until) {
  const node = await once();
  if (node !== undefined) {
    process.stdout.write(`connected ${Date.now()} ${node} after ${attempts} attempts\n`);
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 5));
}
process.stdout.write(`gave up after ${attempts} attempts\n`);
process.exit(1);
