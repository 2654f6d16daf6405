// Probe for the end-to-end test: tries host:port every 5 ms (bounded by maxMs) until a fake node
// answers, then prints `connected <epoch ms> <node>` and exits. Prints "ready" once it starts.
// Usage: node first-connect.mjs <host> <port> <maxMs>
import { askFakeNode } from "@portico/testkit/lab";

const [host, port, maxMs] = process.argv.slice(2);
const until = Date.now() + Number(maxMs);
let attempts = 0;

const once = () => {
  attempts += 1;
  return askFakeNode(host, Number(port));
};

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
