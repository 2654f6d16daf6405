import { readdir, readFile, readlink } from "node:fs/promises";
import { parseIp, type Ip, type Port, type TakenPort } from "@portico/core";
import { sendCommand } from "./runtime.js";

/** A TCP socket in LISTEN state, as `/proc/<pid>/net/tcp{,6}` lists it. */
export interface Listener {
  /** `undefined`: every address of its family (0.0.0.0 or ::). */
  readonly address: Ip | undefined;
  readonly port: Port;
  readonly inode: number;
}

const LISTEN = "0A";

/**
 * The listening sockets in `/proc/net/tcp` or `/proc/net/tcp6` text. Addresses are hex in host
 * byte order per 32-bit word (little-endian here); a line that does not parse is skipped.
 */
export const parseProcNetTcp = (text: string): Listener[] =>
  text
    .split("\n")
    .slice(1)
    .flatMap((line) => {
      const f = line.trim().split(/\s+/);
      const [local, state, inode] = [f[1], f[3], f[9]];
      if (local === undefined || state !== LISTEN || inode === undefined) return [];
      const [hex, portHex] = local.split(":");
      if (hex === undefined || portHex === undefined || !/^[0-9A-F]{4}$/i.test(portHex)) return [];
      const address = hexAddress(hex);
      if (address === null) return [];
      return [{ address, port: parseInt(portHex, 16) as Port, inode: Number(inode) }];
    });

// `null`: not an address; `undefined`: the unspecified address (every address).
const hexAddress = (hex: string): Ip | undefined | null => {
  if (!/^([0-9A-F]{8}|[0-9A-F]{32})$/i.test(hex)) return null;
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(""));
  const text =
    words.length === 1
      ? words[0]!
          .match(/../g)!
          .map((b) => parseInt(b, 16))
          .join(".")
      : words.flatMap((w) => [w.slice(0, 4), w.slice(4)]).join(":");
  const ip = parseIp(text);
  if (ip.isErr()) return null;
  return /^0+$/.test(hex) ? undefined : ip.value;
};

/** haproxyPids: the master's pid first, then its workers'; none when no master answers on `masterSocket`. */
export const haproxyPids = async (masterSocket: string): Promise<number[]> => {
  const answer = await sendCommand(masterSocket, { kind: "show-proc" }, { timeoutMs: 2_000 });
  return answer.isOk() ? [...answer.value.matchAll(/^(\d+)\s+(?:master|worker)\s/gm)].map((m) => Number(m[1])) : [];
};

/** The socket inodes the processes `pids` hold open. */
const socketInodes = async (pids: readonly number[], proc: string): Promise<Set<number>> => {
  const out = new Set<number>();
  for (const pid of pids) {
    const fds = await readdir(`${proc}/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => "");
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m !== null) out.add(Number(m[1]));
    }
  }
  return out;
};

/**
 * The ports of this LB node that something other than HAProxy listens on, seen from HAProxy's own
 * network namespace (through its master's `/proc/<pid>/net`; this process's when no master
 * answers on `masterSocket`), so a reload is never asked to bind them. `ports`: the ones to look
 * for (a plan's frontend ports); an unreadable /proc gives none.
 */
export const foreignListeners = async (
  masterSocket: string,
  ports: ReadonlySet<number>,
  proc = "/proc",
): Promise<TakenPort[]> => {
  const pids = await haproxyPids(masterSocket);
  const net = pids[0] === undefined ? `${proc}/self/net` : `${proc}/${pids[0]}/net`;
  const listeners = [
    ...parseProcNetTcp(await readFile(`${net}/tcp`, "utf8").catch(() => "")),
    ...parseProcNetTcp(await readFile(`${net}/tcp6`, "utf8").catch(() => "")),
  ].filter((l) => ports.has(l.port));
  if (listeners.length === 0) return [];
  const haproxy = await socketInodes(pids, proc);
  const seen = new Set<string>();
  return listeners
    .filter((l) => !haproxy.has(l.inode))
    .flatMap((l) => {
      const where = `${l.address ?? "*"}:${l.port}`;
      if (seen.has(where)) return [];
      seen.add(where);
      const owner = `another program listens on ${where}`;
      return [l.address === undefined ? { port: l.port, owner } : { port: l.port, address: l.address, owner }];
    });
};
