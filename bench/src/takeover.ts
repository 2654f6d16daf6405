// The failover benchmark's probe, run in the client namespace (after the test kit's
// vip-probe): connects to vip:port over and over, each attempt capped at 60 ms, one in flight,
// sends an HTTP/1.0 request and reads which LB node answered. Prints "ready" once `from` answers;
// then, at the first answer from any other node, prints one JSON line { t, answer, attempts }
// (t: wall-clock ms when that answer came) and exits. Gives up (exit 1) after maxMs.
// Usage: node takeover.js <vip> <port> <from> <maxMs>
import { askHttp } from "@portico/testkit/lab";

const [vip = "", port = "0", from = "", maxMs = "0"] = process.argv.slice(2);
const deadline = Date.now() + Number(maxMs);

const attempt = async (): Promise<string | undefined> => {
  const outcome = await askHttp(vip, Number(port), 60);
  return outcome.kind === "answer" ? outcome.body : undefined;
};

let ready = false;
let attempts = 0;
while (Date.now() < deadline) {
  const answer = await attempt();
  attempts += 1;
  if (answer === from && !ready) {
    ready = true;
    process.stdout.write("ready\n");
  } else if (ready && answer !== undefined && answer !== from) {
    process.stdout.write(`${JSON.stringify({ t: Date.now(), answer, attempts })}\n`);
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, answer === undefined ? 1 : 5));
}
process.stdout.write(`gave up after ${attempts} attempts\n`);
process.exit(1);
