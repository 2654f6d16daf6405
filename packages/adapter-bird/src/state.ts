import { bigIntToIp, parseIp, type Ip, type ReadFn } from "@portico/core";

/** One protocol of `birdc show protocols all`. */
export interface BirdProtocol {
  readonly name: string;
  /** `BGP`, `Static`, `BFD`, `Device`. */
  readonly proto: string;
  /** `up`, `down`, `start`, ... */
  readonly state: string;
  /** As BIRD prints it (`timeformat protocol iso long ms`): when the protocol last changed state. */
  readonly since: string;
  /** BGP: `Established`, `Active`, ... */
  readonly info: string;
  readonly neighbor?: Ip;
  readonly neighborAs?: number;
  /** Routes exported over the protocol's channel. */
  readonly exported?: number;
  /** For a Portico VIP protocol (`vip4_<hex>`): its VIP. */
  readonly vip?: Ip;
}

/** One line of `birdc show bfd sessions`. */
export interface BirdBfdSession {
  readonly address: Ip;
  readonly interface: string;
  /** `Up`, `Down`, `Init`, `AdminDown`. */
  readonly state: string;
  readonly since: string;
}

const HEAD = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s*(.*)$/;
const VIP_NAME = /^vip(4|6)_([0-9a-f]{8}|[0-9a-f]{32})$/;

/** The VIP a Portico static protocol announces, read back from its name. */
export const vipOfProtocol = (name: string): Ip | undefined => {
  const m = VIP_NAME.exec(name);
  if (m === null) return undefined;
  const family = m[1] === "4" ? 4 : 6;
  if ((family === 4) !== (m[2]!.length === 8)) return undefined;
  return bigIntToIp(BigInt(`0x${m[2]}`), family);
};

const detail = (lines: readonly string[], key: string): string | undefined => {
  for (const l of lines) {
    const t = l.trim();
    if (t.startsWith(`${key}:`)) return t.slice(key.length + 1).trim();
  }
  return undefined;
};

/**
 * readBirdProtocols reads `birdc show protocols all` (or without `all`): each protocol, its
 * state and, for BGP, the neighbour and how many routes it exports. Lines it does not recognise
 * are skipped; never throws.
 */
export const readBirdProtocols: ReadFn<readonly BirdProtocol[]> = (text) => {
  const out: BirdProtocol[] = [];
  const lines = String(text).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = HEAD.exec(lines[i] ?? "");
    if (m === null || m[1] === "Name") continue;
    const body: string[] = [];
    while (i + 1 < lines.length && /^\s/.test(lines[i + 1] ?? "")) body.push(lines[++i] ?? "");
    const neighbor = parseIp(detail(body, "Neighbor address") ?? "");
    const as = Number(detail(body, "Neighbor AS"));
    const routes = /(\d+) exported/.exec(detail(body, "Routes") ?? "");
    const vip = vipOfProtocol(m[1]!);
    out.push({
      name: m[1]!,
      proto: m[2]!,
      state: m[4]!,
      since: m[5]!,
      info: (m[6] ?? "").trim(),
      ...(neighbor.isOk() ? { neighbor: neighbor.value } : {}),
      ...(Number.isInteger(as) && as > 0 ? { neighborAs: as } : {}),
      ...(routes === null ? {} : { exported: Number(routes[1]) }),
      ...(vip === undefined ? {} : { vip }),
    });
  }
  return out;
};

const BFD_LINE = /^(\S+)\s+(\S+)\s+(Up|Down|Init|AdminDown)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s/;

/** readBirdBfd reads `birdc show bfd sessions`; lines it does not recognise are skipped, never thrown on. */
export const readBirdBfd: ReadFn<readonly BirdBfdSession[]> = (text) =>
  String(text)
    .split("\n")
    .flatMap((line) => {
      const m = BFD_LINE.exec(line);
      const address = parseIp(m?.[1] ?? "");
      return m === null || address.isErr()
        ? []
        : [{ address: address.value, interface: m[2]!, state: m[3]!, since: m[4]! }];
    });
