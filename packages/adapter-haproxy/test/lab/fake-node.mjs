// A fake Kubernetes node for the data-plane tests: a nodePort server that reads an optional
// PROXY v1/v2 header and answers with its node name and the client address it saw, and a
// /healthz server that answers 200 {"localEndpoints": N} or 503. A line on stdin ("503", "200")
// flips the health answer. Prints "ready" once both listen.
// Usage: node fake-node.mjs <name> <nodePort> <healthPort>
import net from "node:net";
import http from "node:http";

const [name, nodePort, healthPort] = process.argv.slice(2);
let healthy = true;
const V2 = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

const parse = (buf) => {
  if (buf.length >= 16 && buf.subarray(0, 12).equals(V2)) {
    const len = buf.readUInt16BE(14);
    if (buf.length < 16 + len) return undefined;
    const fam = buf[13];
    if (fam === 0x11) {
      const a = [...buf.subarray(16, 20)].join(".");
      return { proxy: "v2", client: `${a}:${buf.readUInt16BE(24)}` };
    }
    return { proxy: "v2", client: `family-${fam}` };
  }
  if (buf.subarray(0, 6).toString() === "PROXY ") {
    const end = buf.indexOf("\r\n");
    if (end < 0) return undefined;
    const [, , src, , sport] = buf.subarray(0, end).toString().split(" ");
    return { proxy: "v1", client: `${src}:${sport}` };
  }
  if (buf.length >= 12 || buf.includes(0x0a)) return { proxy: "none", client: null };
  return undefined;
};

const tcp = net.createServer((sock) => {
  let buf = Buffer.alloc(0);
  sock.on("error", () => {});
  sock.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    const seen = parse(buf);
    if (seen === undefined) return;
    sock.removeAllListeners("data");
    sock.end(`${JSON.stringify({ node: name, ...seen })}\n`);
  });
});
const health = http.createServer((req, res) => {
  if (req.url !== "/healthz") {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(healthy ? 200 : 503, { "content-type": "application/json" });
  res.end(JSON.stringify({ localEndpoints: healthy ? 1 : 0 }));
});
let listening = 0;
const up = () => {
  listening += 1;
  if (listening === 2) process.stdout.write("ready\n");
};
tcp.listen(Number(nodePort), "0.0.0.0", up);
health.listen(Number(healthPort), "0.0.0.0", up);
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  for (const line of d.split("\n")) {
    if (line.trim() === "503") healthy = false;
    if (line.trim() === "200") healthy = true;
    if (line.trim() !== "") process.stdout.write(`health ${healthy ? 200 : 503}\n`);
  }
});
process.stdin.on("end", () => process.exit(0));
