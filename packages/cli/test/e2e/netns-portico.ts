import { createConnection, createServer, type Server } from "node:net";
import { rm } from "node:fs/promises";
import { start, type Started } from "@portico/host";
import { waitForLine } from "@portico/testkit";
import { BIN } from "./harness.js";

// `portico run` inside an LB namespace, as on an LB node: nft, BIRD's VIPs on lo and HAProxy's
// binds are that namespace's. The test API server listens on the host's loopback only, so a relay
// carries the kube client's connections: 127.0.0.1:<port> in the namespace -> a unix socket (a
// path, which every namespace sees) -> the server's 127.0.0.1:<port> on the host.

const INNER = `
const net = require("node:net");
const [path, port] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(path);
  c.on("error", () => u.destroy());
  u.on("error", () => c.destroy());
  c.pipe(u).pipe(c);
}).listen(Number(port), "127.0.0.1", () => console.log("ready"));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

/** A running relay and `portico run` in one namespace. */
export interface PorticoInNetns {
  readonly proc: Started;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Start `portico run --node <node>` in namespace `ns` with `dir`'s portico.yaml and kubeconfig
 * (whose server is `apiPort` on 127.0.0.1, reached through the relay).
 */
export const startPorticoIn = async (
  ns: string,
  dir: string,
  node: string,
  apiPort: number,
): Promise<PorticoInNetns> => {
  const path = `${dir}/api.sock`;
  await rm(path, { force: true });
  const outer: Server = createServer((c) => {
    const u = createConnection(apiPort, "127.0.0.1");
    c.on("error", () => u.destroy());
    u.on("error", () => c.destroy());
    c.pipe(u).pipe(c);
  });
  await new Promise<void>((resolve) => outer.listen(path, resolve));
  const inner = (
    await start("ip", ["netns", "exec", ns, process.execPath, "-e", INNER, path, String(apiPort)], { stdio: "pipe" })
  )._unsafeUnwrap();
  await waitForLine(inner, "ready");
  const args = ["run", "--config", `${dir}/portico.yaml`, "--node", node, "--kubeconfig", `${dir}/kubeconfig`];
  const proc = (
    await start("ip", ["netns", "exec", ns, process.execPath, BIN, ...args], { stdio: "pipe" })
  )._unsafeUnwrap();
  let logs = "";
  proc.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
  proc.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  return {
    proc,
    logs: () => logs,
    async stop() {
      await proc.stop("SIGTERM", 10_000);
      await inner.stop("SIGTERM", 3_000);
      await new Promise<void>((resolve) => outer.close(() => resolve()));
    },
  };
};
