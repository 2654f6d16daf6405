// A bounded UDP request/response loop, run inside the client's network namespace:
//   node udp-loop.js <host> <port> <fresh|one> <firstPort> <ports> <intervalMs> <timeoutMs> <maxCount> <maxMs>
// Sends "seq <i>" datagrams one after the other, waiting at most `timeoutMs` for each answer and
// `intervalMs` between them. `fresh`: each request from a socket of its own, bound to the source
// port firstPort + (i mod ports), as a DNS resolver opens a new port per query (the ports repeat, so
// a flow's node can be compared before and after a change). `one`: every request from one socket
// bound to firstPort, as a long-lived flow (an answer to an earlier request is counted late, not
// taken for the current one). A datagram a node sends unasked (`push: true`) is listed in
// `pushes` by where the node sent it. It prints "started" as it begins and "ready" at the first
// answer; a "stop" line on stdin, maxCount requests or maxMs end it, and it prints one JSON line:
// { sent, late, pushes, answers: [{ i, sentAt, sport, at, node, client } | { i, sentAt, sport, timeout: true }] }.
import dgram from "node:dgram";
import type { UdpLoopResult } from "./programs.js";

const [host = "", portText = "", mode = "fresh", firstText = "40000", portsText = "1", ...rest] = process.argv.slice(2);
const [intervalText = "5", timeoutText = "100", countText = "1000", maxText = "10000"] = rest;
const port = Number(portText);
const first = Number(firstText);
const ports = Math.max(1, Number(portsText));
const intervalMs = Math.min(1_000, Number(intervalText));
const timeoutMs = Math.min(5_000, Number(timeoutText));
const maxCount = Math.min(50_000, Number(countText));
const deadline = Date.now() + Math.min(120_000, Number(maxText));
const type = host.includes(":") ? "udp6" : "udp4";

type Answer = UdpLoopResult["answers"][number];
let stopped = false;
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d: string) => {
  if (d.split("\n").some((l) => l.trim() === "stop")) stopped = true;
});

const pushes: string[] = [];
const bound = (p: number): Promise<dgram.Socket> =>
  new Promise((resolve, reject) => {
    const sock = dgram.createSocket(type);
    // Counted on the socket, not per request: a push may come between two requests.
    sock.on("message", (msg) => {
      try {
        const a = JSON.parse(msg.toString()) as { push?: boolean; to?: string };
        if (a.push === true && pushes.length < 100) pushes.push(`${a.to}`);
      } catch {
        // Not an answer of the fake node's: nothing to count.
      }
    });
    sock.once("error", reject);
    sock.bind(p, () => resolve(sock));
  });

let late = 0;
/** Send seq i on `sock` and wait for its own answer. */
const ask = (sock: dgram.Socket, i: number): Promise<Answer> =>
  new Promise((resolve) => {
    const sentAt = Date.now();
    const sport = sock.address().port;
    const onMessage = (msg: Buffer): void => {
      let a: { node?: string; client?: string; said?: string; push?: boolean };
      try {
        a = JSON.parse(msg.toString()) as typeof a;
      } catch {
        return;
      }
      if (a.push === true) return;
      if (a.said !== `seq ${i}`) {
        late++;
        return;
      }
      clearTimeout(timer);
      sock.off("message", onMessage);
      resolve({
        i,
        sentAt,
        sport,
        at: Date.now(),
        ...(a.node ? { node: a.node } : {}),
        ...(a.client ? { client: a.client } : {}),
      });
    };
    const timer = setTimeout(() => {
      sock.off("message", onMessage);
      resolve({ i, sentAt, sport, timeout: true });
    }, timeoutMs);
    sock.on("message", onMessage);
    sock.send(`seq ${i}\n`, port, host);
  });

process.stdout.write("started\n");
const answers: Answer[] = [];
const long = mode === "one" ? await bound(first) : undefined;
let ready = false;
for (let i = 0; i < maxCount && !stopped && Date.now() < deadline; i++) {
  const sock = long ?? (await bound(first + (i % ports)));
  const a = await ask(sock, i);
  if (long === undefined) sock.close();
  answers.push(a);
  if (!ready && a.timeout === undefined) {
    ready = true;
    process.stdout.write("ready\n");
  }
  await new Promise((r) => setTimeout(r, intervalMs));
}
long?.close();
const result: UdpLoopResult = { sent: answers.length, late, pushes, answers };
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
