// Tries host:port every 5 ms (for at most <maxMs>) until a fake node answers, then prints
// `connected <epoch ms> <node> after <n> attempts` and exits 0; prints "ready" once it starts and
// `gave up after <n> attempts` (exit 1) at <maxMs>.
//   node first-connect.js <host> <port> <maxMs>
import { askFakeNode } from "../ask.js";

const [host = "", port = "0", maxMs = "0"] = process.argv.slice(2);
const until = Date.now() + Number(maxMs);
let attempts = 0;

process.stdout.write("ready\n");
while (Date.now() < until) {
  attempts += 1;
  const node = await askFakeNode(host, Number(port));
  if (node !== undefined) {
    process.stdout.write(`connected ${Date.now()} ${node} after ${attempts} attempts\n`);
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 5));
}
process.stdout.write(`gave up after ${attempts} attempts\n`);
process.exit(1);
