// Long-lived TCP flows, run inside the client's network namespace:
//   node held-flows.js <host> <port> <count> <maxMs> [<localAddress>] [<firstSourcePort>]
// Opens `count` connections (from firstSourcePort up when given) to fake nodes started with
// --hold, sends a line on each and reads which node answered; prints one JSON line
// `{ round: 0, flows: [{ sport, node } | { sport, error }] }`. Each "ping" line on stdin sends a
// line on every flow again and prints the next round (a reset reads as error ECONNRESET, no answer
// within 2 s as "timeout"); "end" on stdin, or maxMs passing, closes every flow and exits.
import net from "node:net";

const [host = "", portText = "0", countText = "1", maxText = "60000", localText, firstText] = process.argv.slice(2);
const local = localText === undefined || localText === "" ? undefined : localText;
const first = firstText === undefined ? 0 : Number(firstText);
const count = Math.min(1_000, Number(countText));
const ANSWER_MS = 2_000;

interface Flow {
  readonly sock: net.Socket;
  sport: number;
  error?: string;
  waiting?: ((answer: Record<string, unknown>) => void) | undefined;
  buf: string;
}

const flows: Flow[] = [];
const answerOf = (f: Flow): Promise<Record<string, unknown>> =>
  new Promise((resolve) => {
    if (f.error !== undefined) {
      resolve({ sport: f.sport, error: f.error });
      return;
    }
    const timer = setTimeout(() => {
      f.waiting = undefined;
      resolve({ sport: f.sport, error: "timeout" });
    }, ANSWER_MS);
    f.waiting = (a) => {
      clearTimeout(timer);
      f.waiting = undefined;
      resolve(a);
    };
    f.sock.write("ping\n");
  });

const open = (i: number): Promise<Flow> =>
  new Promise((resolve) => {
    const sock = net.createConnection({
      host,
      port: Number(portText),
      ...(local === undefined ? {} : { localAddress: local }),
      ...(first === 0 ? {} : { localPort: first + i }),
    });
    const f: Flow = { sock, sport: first === 0 ? 0 : first + i, buf: "" };
    sock.setNoDelay(true);
    sock.on("connect", () => {
      f.sport = sock.localPort ?? f.sport;
      resolve(f);
    });
    sock.on("data", (d: Buffer) => {
      f.buf += d.toString("latin1");
      for (let at = f.buf.indexOf("\n"); at >= 0; at = f.buf.indexOf("\n")) {
        const line = f.buf.slice(0, at);
        f.buf = f.buf.slice(at + 1);
        try {
          const a = JSON.parse(line) as { node: string; client: string };
          f.waiting?.({ sport: f.sport, node: a.node, client: a.client });
        } catch {
          f.waiting?.({ sport: f.sport, error: "garbled" });
        }
      }
    });
    sock.on("error", (e: NodeJS.ErrnoException) => {
      f.error = e.code ?? e.message;
      f.waiting?.({ sport: f.sport, error: f.error });
      resolve(f);
    });
    sock.on("close", () => {
      f.error ??= "closed";
      f.waiting?.({ sport: f.sport, error: f.error });
    });
  });

const end = (): never => {
  for (const f of flows) f.sock.destroy();
  process.exit(0);
};
setTimeout(end, Number(maxText)).unref();
for (let i = 0; i < count; i++) flows.push(await open(i));
let round = 0;
const report = async (): Promise<void> => {
  const answers = await Promise.all(flows.map(answerOf));
  process.stdout.write(`${JSON.stringify({ round, flows: answers })}\n`);
  round += 1;
};
await report();
let busy: Promise<void> = Promise.resolve();
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d: string) => {
  for (const line of d.split("\n").map((l) => l.trim())) {
    if (line === "ping") busy = busy.then(report);
    if (line === "end") void busy.then(end);
  }
});
process.stdin.on("end", () => void busy.then(end));
