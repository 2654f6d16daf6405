// The convergence benchmark's probe, one process in the client namespace for the whole run (so no
// Node start-up sits inside a measurement). Commands on stdin, one per line:
//   first <host> <port>   connect every 5 ms until a fake node answers; print
//                         `connected <host> <epoch ms> <node>` (gives up after 30 s or 6000
//                         attempts: `gave-up <host>`). A refused connection fails at once, and a
//                         connection the kernel queues before HAProxy's new worker runs is held
//                         until it answers, so the probe adds at most its 5 ms pause.
//   watch <host> <port>   connect one at a time until `stop`, then print
//                         `answers <JSON [[start ms, end ms, node or null], ...]>`
//   stop                  end the current watch
// Prints "ready" at start. Every connection is capped at 2 s; the process ends when stdin closes.
import { createInterface } from "node:readline";
import { askFakeNode } from "@portico/testkit/lab";

const connect = async (host: string, port: string): Promise<string | null> =>
  (await askFakeNode(host, Number(port))) ?? null;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let watching = false;
const first = async (host: string, port: string): Promise<void> => {
  const deadline = Date.now() + 30_000;
  for (let attempt = 0; attempt < 6000 && Date.now() < deadline; attempt++) {
    const node = await connect(host, port);
    if (node !== null) {
      process.stdout.write(`connected ${host} ${Date.now()} ${node}\n`);
      return;
    }
    await sleep(5);
  }
  process.stdout.write(`gave-up ${host}\n`);
};
const watch = async (host: string, port: string): Promise<void> => {
  watching = true;
  const answers: [number, number, string | null][] = [];
  const deadline = Date.now() + 60_000;
  while (watching && Date.now() < deadline) {
    const t0 = Date.now();
    const node = await connect(host, port);
    answers.push([t0, Date.now(), node]);
    await sleep(2);
  }
  process.stdout.write(`answers ${JSON.stringify(answers)}\n`);
};

process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) {
  const [command, host = "", port = "0"] = line.trim().split(" ");
  if (command === "first") void first(host, port);
  else if (command === "watch") void watch(host, port);
  else if (command === "stop") watching = false;
}
process.exit(0);
