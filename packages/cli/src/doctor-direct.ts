import { readFile } from "node:fs/promises";
import { readNftablesState } from "@portico/adapter-nftables";
import { CONFIG_DEFAULTS, parseIp } from "@portico/core";
import { checkResult, inNs, type CheckResult, type DoctorOptions } from "./doctor-check.js";

/** What `ip -j route get` and `ip -j neigh show` print, as far as the checks read it. */
interface RouteAnswer {
  readonly type?: string;
  readonly gateway?: string;
  readonly dev?: string;
}
interface NeighAnswer {
  readonly state?: readonly string[];
}

const firstOf = <T>(stdout: string): T | undefined => {
  try {
    const parsed = JSON.parse(stdout) as unknown;
    return Array.isArray(parsed) ? (parsed[0] as T | undefined) : undefined;
  } catch {
    return undefined;
  }
};

/** A listener id without its `l4_` prefix and hash suffix: `default_dns_53_udp_v4`. */
const label = (id: string): string => id.replace(/^l4_/, "").replace(/_[0-9a-f]{16}$/, "");

/**
 * judgeDirectRoute: whether `address` can take `direct` frames from an LB node on `iface`, from
 * that node's `ip -j route get <address>` (undefined: no route) and `ip -j neigh show` answers.
 * Direct forwarding hands the frame to the node's own MAC, so the node must be on-link: a route
 * through a gateway, through another interface, or none at all fails. A neighbour entry that
 * failed to resolve warns (the node does not answer ARP on the segment).
 */
export const judgeDirectRoute = (
  address: string,
  iface: string,
  route: RouteAnswer | undefined,
  neigh: NeighAnswer | undefined,
  listeners: readonly string[],
): CheckResult => {
  const name = `direct node ${address}`;
  const used = `forwarded to by ${listeners.map(label).join(", ")}`;
  const fix = `put the node on ${iface}'s L2 segment, or set portico.dev/data-plane: nat on those Services (nat is routed)`;
  if (route === undefined) return checkResult("FAIL", name, `no route from this LB node; ${used}`, fix);
  if (route.type === "local")
    return checkResult(
      "FAIL",
      name,
      `is an address of this LB node, not a node's; ${used}`,
      "correct the Node's InternalIP",
    );
  if (route.gateway !== undefined)
    return checkResult(
      "FAIL",
      name,
      `behind gateway ${route.gateway} on ${route.dev ?? "?"}, not a neighbour; ${used}`,
      fix,
    );
  if (route.dev !== iface)
    return checkResult(
      "FAIL",
      name,
      `reached through ${route.dev ?? "?"}, not the LB interface ${iface}; ${used}`,
      fix,
    );
  const state = neigh?.state?.[0];
  if (state === "FAILED" || state === "INCOMPLETE")
    return checkResult(
      "WARN",
      name,
      `on-link on ${iface}, but its neighbour entry is ${state} (no answer to ARP/ND); ${used}`,
      `check that the node is up on this segment (ping ${address})`,
    );
  return checkResult(
    "OK",
    name,
    `a neighbour on ${iface} (no gateway${state === undefined ? "" : `, ${state}`}); ${used}`,
  );
};

/**
 * checkDirect: for each node address the installed L4 ruleset (`nftables.configPath`) forwards
 * `direct` traffic to, that it is a neighbour on the LB interface (`ip route get` shows no gateway
 * and that interface), and a line for what the LB node cannot see: that nodes do not answer ARP or
 * ND for the VIPs they hold. Nothing when no `direct` listener is installed.
 */
export const checkDirect = async (opts: DoctorOptions): Promise<CheckResult[]> => {
  const path = opts.config.nftables?.configPath ?? CONFIG_DEFAULTS.nftables.configPath;
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return [];
  const byAddress = new Map<string, string[]>();
  for (const l of readNftablesState(text).listeners.filter((x) => x.mode === "direct"))
    for (const s of l.shares) {
      // The target is printed by the renderer; read it back as an address before it reaches `ip`.
      const ip = parseIp(s.target);
      if (ip.isErr()) continue;
      byAddress.set(ip.value, [...(byAddress.get(ip.value) ?? []), l.id]);
    }
  if (byAddress.size === 0) return [];
  const iface = opts.node.interface;
  const results: CheckResult[] = [];
  for (const [address, ids] of [...byAddress].sort(([a], [b]) => a.localeCompare(b))) {
    const route = await inNs(opts, "ip", ["-j", "route", "get", address]);
    if (route.isErr()) return [checkResult("FAIL", "direct nodes", route.error.message, "apt-get install -y iproute2")];
    const neigh = await inNs(opts, "ip", ["-j", "neigh", "show", address, "dev", iface]);
    const answer = route.value.code === 0 ? firstOf<RouteAnswer>(route.value.stdout) : undefined;
    const entry = neigh.isOk() && neigh.value.code === 0 ? firstOf<NeighAnswer>(neigh.value.stdout) : undefined;
    results.push(judgeDirectRoute(address, iface, answer, entry, [...new Set(ids)].sort()));
  }
  results.push(
    checkResult(
      "OK",
      "direct ARP for VIPs",
      "not checked: cannot be seen from the LB node. Each node holds the VIPs and must not answer ARP or ND " +
        "for them (kube-proxy IPVS mode: strictARP: true; else arp_ignore=1, arp_announce=2), or it takes the " +
        "VIPs' traffic away from the LB nodes",
    ),
  );
  return results;
};
