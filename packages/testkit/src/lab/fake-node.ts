// A fake Kubernetes node, run inside the node's network namespace:
//   node fake-node.js <name> <nodePort,...> <healthPort,...> [--http] [--state-dir <dir>]
// Every nodePort answers with one JSON line `{ node, port, client, proxy, peer }`: the client
// address from a PROXY v1 or v2 header when there is one, else the connection's own peer. It
// answers as soon as it has a PROXY header, else at the first line or 12 bytes; with --http it
// reads the request after the header first, and answers an HTTP request in HTTP (curl works).
// With --udp <port,...>, each of those ports (a nodePort for nat, the Service port for direct) also
// answers every UDP datagram with the same JSON line, `client` being the datagram's source and
// `said` the datagram's first line (up to 40 characters), so a client can match answers to requests.
// With --hold <port,...>, each of those TCP ports answers every line with the same JSON line and
// keeps the connection open: a long-lived flow whose node a reset would end.
// Every health port answers GET /healthz with 200 {"node", "localEndpoints": 1} or 503 (0).
// Without --state-dir it is driven by its parent: it prints "ready" once every port listens, a
// line "503" or "200" on stdin flips its health (it prints `health <status>`), a line "delay <ms>"
// makes /healthz answer that much later (it prints `delay <ms>`), a line "push <udpPort> <ipv4>
// <port>" sends `{ node, port, push: true, to }` from that UDP port's socket to ipv4:port unasked, as a
// server sends to a flow's peer (it prints `pushed <ipv4>:<port>`), and it ends with stdin. With
// --state-dir it runs on its own: 503 while `<dir>/fail` exists, its pid written to `<dir>/pid`
// once every port listens, or why a port could not be had to `<dir>/error`.
import { existsSync } from "node:fs";
import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import { writeFileAtomic } from "@portico/host";
import { readProxyHeader, type ProxyHeader } from "./proxy-header.js";

const [name = "", nodePortList = "", healthPortList = "", ...flags] = process.argv.slice(2);
const http1 = flags.includes("--http");
const stateDir = flags.includes("--state-dir") ? flags[flags.indexOf("--state-dir") + 1] : undefined;
const ports = (list: string): number[] => list.split(",").filter(Boolean).map(Number);
const udpPortList = flags.includes("--udp") ? (flags[flags.indexOf("--udp") + 1] ?? "") : "";
const holdPortList = flags.includes("--hold") ? (flags[flags.indexOf("--hold") + 1] ?? "") : "";
let healthy = true;
let healthDelayMs = 0;
const isHealthy = (): boolean => (stateDir === undefined ? healthy : !existsSync(join(stateDir, "fail")));

const HTTP_REQUEST = /^[A-Z]{3,7} \S+ HTTP\/1\.[01]\r?\n/;
const hostPort = (address = "", port = 0): string =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;

/** Whether to answer now: at a PROXY header, else at a line or 12 bytes; with --http, at the whole request. */
const answerNow = (header: ProxyHeader, rest: Buffer): boolean => {
  if (!http1 && header.proxy !== "none") return true;
  const text = rest.toString("latin1");
  if (http1 && HTTP_REQUEST.test(text)) return text.includes("\r\n\r\n") || text.includes("\n\n");
  return rest.length >= 12 || rest.includes(0x0a);
};

const nodePortServer = (port: number): net.Server =>
  net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let header: ProxyHeader | undefined;
    sock.on("error", () => {});
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      header ??= readProxyHeader(buf);
      if (header === undefined) return;
      const rest = buf.subarray(header.length);
      if (!answerNow(header, rest)) return;
      sock.removeAllListeners("data");
      const peer = hostPort(sock.remoteAddress, sock.remotePort);
      const answer = { node: name, port, client: header.client ?? peer, proxy: header.proxy, peer };
      const body = `${JSON.stringify(answer)}\n`;
      if (!http1 || !HTTP_REQUEST.test(rest.toString("latin1"))) {
        sock.end(body);
        return;
      }
      const head = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}`;
      sock.end(`${head}\r\nconnection: close\r\n\r\n${body}`);
    });
  });

/** Every line answered, the connection kept: the peer is the client itself (direct forwarding). */
const holdServer = (port: number): net.Server =>
  net.createServer((sock) => {
    let buf = "";
    sock.on("error", () => {});
    sock.setTimeout(120_000, () => sock.destroy());
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      const peer = hostPort(sock.remoteAddress, sock.remotePort);
      for (let at = buf.indexOf("\n"); at >= 0; at = buf.indexOf("\n")) {
        buf = buf.slice(at + 1);
        sock.write(`${JSON.stringify({ node: name, port, client: peer, proxy: "none", peer })}\n`);
      }
    });
  });

const healthServer = (): http.Server =>
  http.createServer((req, res) => {
    if (req.url !== "/healthz") {
      res.writeHead(404).end();
      return;
    }
    const answer = (): void => {
      const ok = isHealthy();
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
      res.end(`${JSON.stringify({ node: name, localEndpoints: ok ? 1 : 0 })}\n`);
    };
    if (healthDelayMs > 0) setTimeout(answer, healthDelayMs);
    else answer();
  });

/** IPv4 and IPv6 on separate sockets, so an IPv4 peer reads as 198.18.0.11, not ::ffff:198.18.0.11. */
const listen = (make: () => net.Server, port: number): Promise<unknown> =>
  Promise.all(
    [{ host: "0.0.0.0" }, { host: "::", ipv6Only: true }].map(
      (at) =>
        new Promise<void>((resolve, reject) => {
          const server = make();
          server.once("error", (e: NodeJS.ErrnoException) =>
            // A kernel without IPv6 serves IPv4 alone.
            at.host === "::" && e.code === "EAFNOSUPPORT" ? resolve() : reject(e),
          );
          server.listen({ port, ...at }, resolve);
        }),
    ),
  );

/** The IPv4 UDP socket of each UDP port, for datagrams the node sends unasked ("push"). */
const udp4Sockets = new Map<number, dgram.Socket>();
const udpServer = (port: number, type: "udp4" | "udp6"): Promise<unknown> =>
  new Promise<void>((resolve, reject) => {
    const sock = dgram.createSocket({ type, ipv6Only: type === "udp6" });
    if (type === "udp4") udp4Sockets.set(port, sock);
    sock.on("message", (msg, from) => {
      const client = hostPort(from.address, from.port);
      const said = (msg.toString("latin1").split("\n")[0] ?? "").slice(0, 40);
      sock.send(
        `${JSON.stringify({ node: name, port, client, proxy: "none", peer: client, said })}\n`,
        from.port,
        from.address,
      );
    });
    sock.once("error", (e: NodeJS.ErrnoException) =>
      type === "udp6" && e.code === "EAFNOSUPPORT" ? resolve() : reject(e),
    );
    sock.bind(port, type === "udp4" ? "0.0.0.0" : "::", () => resolve());
  });

const listening = Promise.all([
  ...ports(udpPortList).flatMap((p) => [udpServer(p, "udp4"), udpServer(p, "udp6")]),
  ...ports(nodePortList).map((p) => listen(() => nodePortServer(p), p)),
  ...ports(holdPortList).map((p) => listen(() => holdServer(p), p)),
  ...ports(healthPortList).map((p) => listen(healthServer, p)),
]);

if (stateDir === undefined) {
  await listening;
  process.stdout.write("ready\n");
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (d: string) => {
    for (const line of d.split("\n")) {
      if (line.trim() === "503") healthy = false;
      if (line.trim() === "200") healthy = true;
      const delay = /^delay (\d+)$/.exec(line.trim());
      const push = /^push (\d+) ([0-9.]+) (\d+)$/.exec(line.trim());
      if (push !== null) {
        const [port, host, to] = [Number(push[1]), push[2]!, Number(push[3])];
        const body = `${JSON.stringify({ node: name, port, push: true, to: `${host}:${to}` })}\n`;
        udp4Sockets.get(port)?.send(body, to, host, () => process.stdout.write(`pushed ${host}:${to}\n`));
      } else if (delay !== null) {
        healthDelayMs = Number(delay[1]);
        process.stdout.write(`delay ${healthDelayMs}\n`);
      } else if (line.trim() !== "") process.stdout.write(`health ${healthy ? 200 : 503}\n`);
    }
  });
  process.stdin.on("end", () => process.exit(0));
} else {
  try {
    await listening;
  } catch (e) {
    // Nobody reads this process's output (it outlives the command that started it): say why in a file.
    await writeFileAtomic(join(stateDir, "error"), `${(e as Error).message}\n`, { mode: 0o644 });
    process.exit(1);
  }
  const written = await writeFileAtomic(join(stateDir, "pid"), `${process.pid}\n`, { mode: 0o644 });
  if (written.isErr()) {
    process.stderr.write(`${name}: ${written.error.message}\n`);
    process.exit(1);
  }
}
