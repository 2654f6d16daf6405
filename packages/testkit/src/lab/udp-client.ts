// A bounded UDP client, run inside the client's network namespace:
//   node udp-client.js <host> <port> <count> <timeoutMs> [<localAddress>] [<firstSourcePort>]
// Sends `count` datagrams, each from a socket of its own (its own source port, so flows spread;
// with firstSourcePort, the ports from it up, so a second run repeats the same flows),
// one after the other, and waits at most `timeoutMs` for each answer. Prints one JSON line:
// { sent, answers: [{ sport, node, client } | { sport, timeout: true }] }.
import dgram from "node:dgram";

const [host = "", portText = "", countText = "1", timeoutText = "1000", localText, firstText] = process.argv.slice(2);
const local = localText === undefined || localText === "" ? undefined : localText;
const first = firstText === undefined ? 0 : Number(firstText);
const port = Number(portText);
const count = Math.min(10_000, Number(countText));
const timeoutMs = Math.min(10_000, Number(timeoutText));
const type = host.includes(":") ? "udp6" : "udp4";

const ask = (i: number): Promise<Record<string, unknown>> =>
  new Promise((resolve) => {
    const sock = dgram.createSocket(type);
    sock.bind(first === 0 ? 0 : first + i, local, () => {
      const sport = sock.address().port;
      const timer = setTimeout(() => {
        sock.close();
        resolve({ sport, timeout: true });
      }, timeoutMs);
      sock.once("message", (msg) => {
        clearTimeout(timer);
        sock.close();
        try {
          const a = JSON.parse(msg.toString()) as { node: string; client: string };
          resolve({ sport, node: a.node, client: a.client });
        } catch {
          resolve({ sport, garbled: true });
        }
      });
      sock.send("ping\n", port, host);
    });
  });

const answers: Record<string, unknown>[] = [];
for (let i = 0; i < count; i++) answers.push(await ask(i));
process.stdout.write(`${JSON.stringify({ sent: count, answers })}\n`);
