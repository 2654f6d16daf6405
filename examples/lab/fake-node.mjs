// A fake Kubernetes node for the lab (`npm run lab`), run inside the node's network namespace.
// Grown from packages/adapter-haproxy/test/lab/fake-node.mjs, with what a long-lived lab needs:
// - every nodePort answers with the node's name, the port, and the client address it saw: from
//   a PROXY v1 or v2 header when there is one, else the connection's own peer (the LB node).
//   An HTTP request gets an HTTP answer (curl works); anything else gets one JSON line.
// - every health port answers GET /healthz: 200, or 503 while the file `<dir>/fail` exists
//   (`npm run lab -- fail node-b` creates it, `heal` removes it), so a flip needs no signal.
// - once everything listens it writes its pid to `<dir>/pid` (the lab waits for that file, and
//   `npm run lab -- down` reads it); when a port cannot be had, the reason to `<dir>/error`.
// Usage: node fake-node.mjs <name> <dir> <nodePort,...> <healthPort,...>
import { existsSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import { writeFileAtomic } from "@portico/host";

const [name = "", dir = "", tcpList = "", healthList = ""] = process.argv.slice(2);
const ports = (list) => list.split(",").filter(Boolean).map(Number);
const failFile = join(dir, "fail");
const V2 = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

// Returns { proxy, client, rest } once the header (or the lack of one) is known, else undefined.
const readProxy = (buf) => {
  if (buf.length >= 16 && buf.subarray(0, 12).equals(V2)) {
    const len = buf.readUInt16BE(14);
    if (buf.length < 16 + len) return undefined;
    const fam = buf[13];
    const rest = buf.subarray(16 + len);
    if (fam === 0x11)
      return { proxy: "v2", client: `${[...buf.subarray(16, 20)].join(".")}:${buf.readUInt16BE(24)}`, rest };
    if (fam === 0x21) {
      const groups = Array.from({ length: 8 }, (_, i) => buf.readUInt16BE(16 + i * 2).toString(16));
      return { proxy: "v2", client: `[${groups.join(":")}]:${buf.readUInt16BE(48)}`, rest };
    }
    return { proxy: "v2", client: `family-${fam}`, rest };
  }
  if (buf.length < 12 && V2.subarray(0, buf.length).equals(buf)) return undefined;
  if (buf.subarray(0, 6).toString() === "PROXY ") {
    const end = buf.indexOf("\r\n");
    if (end < 0) return undefined;
    const [, , src, , sport] = buf.subarray(0, end).toString().split(" ");
    return {
      proxy: "v1",
      client: src?.includes(":") ? `[${src}]:${sport}` : `${src}:${sport}`,
      rest: buf.subarray(end + 2),
    };
  }
  if (buf.length < 6 && "PROXY ".startsWith(buf.toString())) return undefined;
  return { proxy: "none", client: null, rest: buf };
};

const nodePortServer = (port) =>
  net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let header;
    let headerLength = 0;
    sock.on("error", () => {});
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (header === undefined) {
        header = readProxy(buf);
        if (header === undefined) return;
        headerLength = buf.length - header.rest.length;
      }
      const rest = buf.subarray(headerLength);
      const text = rest.toString("latin1");
      const isHttp = /^[A-Z]{3,7} \S+ HTTP\/1\.[01]\r?\n/.test(text);
      // An HTTP request is answered once its headers are in; anything else at its first line or 12 bytes.
      if (isHttp ? !text.includes("\r\n\r\n") && !text.includes("\n\n") : rest.length < 12 && !rest.includes(0x0a))
        return;
      sock.removeAllListeners("data");
      const peer = sock.remoteAddress?.includes(":")
        ? `[${sock.remoteAddress}]:${sock.remotePort}`
        : `${sock.remoteAddress}:${sock.remotePort}`;
      const answer = JSON.stringify({ node: name, port, client: header.client ?? peer, proxy: header.proxy, peer });
      if (!isHttp) {
        sock.end(`${answer}\n`);
        return;
      }
      const body = `${answer}\n`;
      sock.end(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
  });

const healthServer = () =>
  http.createServer((req, res) => {
    if (req.url !== "/healthz") {
      res.writeHead(404).end();
      return;
    }
    const healthy = !existsSync(failFile);
    res.writeHead(healthy ? 200 : 503, { "content-type": "application/json" });
    res.end(`${JSON.stringify({ node: name, localEndpoints: healthy ? 1 : 0 })}\n`);
  });

// IPv4 and IPv6 on separate sockets, so an IPv4 peer reads as 198.18.0.11, not ::ffff:198.18.0.11.
const listen = (make, port) =>
  Promise.all(
    [{ host: "0.0.0.0" }, { host: "::", ipv6Only: true }].map(
      (at) =>
        new Promise((resolve, reject) => {
          const server = make(port);
          server.once("error", reject);
          server.listen({ port, ...at }, resolve);
        }),
    ),
  );

try {
  await Promise.all([
    ...ports(tcpList).map((p) => listen(nodePortServer, p)),
    ...ports(healthList).map((p) => listen(healthServer, p)),
  ]);
} catch (e) {
  // The lab discards this process's output (it outlives the lab command), so say why in a file.
  await writeFileAtomic(join(dir, "error"), `${e.message}\n`, { mode: 0o644 });
  process.exit(1);
}
const written = await writeFileAtomic(join(dir, "pid"), `${process.pid}\n`, { mode: 0o644 });
if (written.isErr()) {
  process.stderr.write(`${name}: ${written.error.message}\n`);
  process.exit(1);
}
