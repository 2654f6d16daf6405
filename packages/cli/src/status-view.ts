import type { CheckResult, HaproxyLayout, LayoutServer, ServerState, StatRow } from "@portico/adapter-haproxy";
import type { Plan, VrrpState } from "@portico/core";
import { formatBgpStatus, type BgpStatusView } from "./bgp-status.js";
import { formatL4Status, type L4Status } from "./status-l4.js";

/** What a server serves: a Kubernetes node (by name), or a pod (its address is the endpoint). */
export type StatusTarget = { readonly kind: "node"; readonly node: string } | { readonly kind: "pod" };

/** One backend server as `portico status` shows it. */
export interface StatusServer {
  /** HAProxy's name for it: `slot<n>`, or the server's id for named servers. */
  readonly server: string;
  readonly target: StatusTarget;
  /** `address:port` HAProxy sends to now (`[v6]:port` for IPv6). */
  readonly endpoint: string;
  /** UNKNOWN: the running HAProxy does not know this server (its config is not the installed file). */
  readonly state: ServerState | "UNKNOWN";
  /** HAProxy's own status text (`UP 1/2`, `MAINT (via ...)`), for the detail the state folds away. */
  readonly haproxyStatus: string;
  readonly weight: number;
  /** The last check; for servers that follow a shared check, that check's result and `via`. */
  readonly check?: CheckResult & { readonly via?: string };
  readonly sessions: number;
}

/** One frontend on a VIP, with the servers of its backend (empty slots left out). */
export interface StatusFrontend {
  readonly frontend: string;
  readonly port: number;
  /** `namespace/name` when the plan beside the installed haproxy.cfg names it. */
  readonly service?: string;
  /** HAProxy's frontend status (`OPEN`, `STOP`), or UNKNOWN when the running HAProxy lacks it. */
  readonly status: string;
  readonly sessions: number;
  readonly backend?: string;
  readonly servers: readonly StatusServer[];
}

/**
 * MASTER: the VIP is on this node's interface (keepalived adds it only as master). BACKUP:
 * keepalived runs and the VIP is elsewhere (a FAULT instance looks the same from outside).
 * STOPPED: keepalived does not run. UNKNOWN: the addresses or keepalived's pid could not be read.
 */
export type VrrpView = "MASTER" | "BACKUP" | "STOPPED" | "UNKNOWN";

/** One VIP of this LB node. */
export interface StatusVip {
  readonly vip: string;
  /** Whether the VIP is on the interface now; null when the addresses could not be read. */
  readonly held: boolean | null;
  readonly vrrp: {
    readonly state: VrrpView;
    /** From the installed keepalived.conf; absent when no instance there carries this VIP. */
    readonly vrid?: number;
    readonly intendedMaster?: string;
  };
  readonly frontends: readonly StatusFrontend[];
}

/** `portico status` for one LB node: its VIPs, in address order, and what could not be read. */
export interface StatusView {
  readonly node: string;
  readonly interface: string;
  readonly vips: readonly StatusVip[];
  /** What could not be read and what that leaves unknown, one line each. */
  readonly notes: readonly string[];
  /** BGP sessions, BFD and announcements; absent without a `bgp` section. */
  readonly bgp?: BgpStatusView;
  /** Portico's L4 tables as the kernel runs them; absent when there are none. */
  readonly l4?: L4Status;
}

/** Everything `portico status` reads on the node, already parsed. */
export interface StatusSources {
  readonly node: string;
  readonly interface: string;
  /** The installed haproxy.cfg. */
  readonly layout: HaproxyLayout;
  /** `show stat` from the stats socket. */
  readonly stats: readonly StatRow[];
  /** The interface's addresses, or why they could not be read. */
  readonly addresses: ReadonlySet<string> | { readonly error: string };
  /** From the installed keepalived.conf (no instances when there is none). */
  readonly vrrp: VrrpState;
  readonly keepalived: "running" | "stopped" | "unknown";
  /** The plan.json beside the installed haproxy.cfg, when there is one: exact node and Service names. */
  readonly plan?: Plan;
}

/** The interface's addresses from `ip -j addr show dev <if>`, or why they cannot be read. */
export const parseIpAddr = (json: string): ReadonlySet<string> | { readonly error: string } => {
  try {
    const links = JSON.parse(json) as { addr_info?: { local?: unknown }[] }[];
    if (!Array.isArray(links)) return { error: "ip -j addr did not answer a list" };
    return new Set(
      links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (typeof a.local === "string" ? [a.local] : []))),
    );
  } catch {
    return { error: "ip -j addr did not answer JSON" };
  }
};

// Without a plan, a server id still reads well: node_worker_1_5a6335445a633544 -> worker_1.
const readable = (id: string): string => id.replace(/^(node|pod)_/, "").replace(/_[0-9a-f]{16}$/, "");

// An empty slot waits in maintenance at the unspecified address (`0.0.0.0:1`, `[::]:1`).
const isEmptySlot = (srv: LayoutServer): boolean => !srv.enabled || /^(?:0\.0\.0\.0|\[::\]):1$/.test(srv.endpoint);

/**
 * A backend's server as a member of that backend, or undefined for an empty slot. A Cluster-policy
 * backend's slot N tracks the check backend's slot N and belongs to the node there: its id is the
 * check slot's `# id` when the slot line carries none. A slot that is empty here is left out even
 * when its check slot holds a node (outside a `maxBackendsPerService` subset, that node is not a
 * member of this backend); a member an operator put in MAINT stays enabled in the file and shows.
 */
const member = (layout: HaproxyLayout, srv: LayoutServer): LayoutServer | undefined => {
  if (isEmptySlot(srv)) return undefined;
  if (srv.tracks === undefined || srv.id !== srv.name) return srv;
  const [checkBackend, checkServer] = srv.tracks.split("/");
  const check = layout.backends.get(checkBackend ?? "")?.find((c) => c.name === checkServer);
  if (check === undefined || isEmptySlot(check)) return undefined;
  return { ...srv, id: check.id };
};

const vipOrder = (a: string, b: string): number => {
  const key = (ip: string): string =>
    ip.includes(":")
      ? `6${ip}`
      : `4${ip
          .split(".")
          .map((o) => o.padStart(3, "0"))
          .join(".")}`;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
};

/** Join the installed config, HAProxy's runtime state and the node's addresses into one view per VIP. */
export const buildStatus = (s: StatusSources): StatusView => {
  const notes: string[] = [];
  const stat = new Map(s.stats.map((r) => [`${r.proxy}/${r.name}`, r]));
  const nodeOf = new Map<string, string>();
  const serviceOf = new Map<string, string>();
  const podBackends = new Set<string>();
  for (const b of s.plan?.backends ?? []) {
    serviceOf.set(b.id, b.service);
    if (b.target === "pod") podBackends.add(b.id);
    for (const x of b.servers) nodeOf.set(x.id, x.node);
  }
  for (const c of s.plan?.checks ?? []) for (const x of c.servers) nodeOf.set(x.id, x.node);
  const addresses = "error" in s.addresses ? undefined : s.addresses;
  if (addresses === undefined && "error" in s.addresses)
    notes.push(`addresses of ${s.interface}: ${s.addresses.error}; which VIPs this node holds is unknown`);
  if (s.keepalived === "unknown")
    notes.push("keepalived's pid file could not be read; VRRP state shows as seen from the addresses only");

  const frontendsByVip = new Map<string, StatusFrontend[]>();
  let unknownToHaproxy = 0;
  for (const fe of s.layout.frontends) {
    const row = stat.get(`${fe.id}/FRONTEND`);
    const servers: StatusServer[] = [];
    for (const listed of fe.backend === undefined ? [] : (s.layout.backends.get(fe.backend) ?? [])) {
      const srv = member(s.layout, listed);
      if (srv === undefined) continue;
      const r = stat.get(`${fe.backend}/${srv.name}`);
      if (r === undefined) unknownToHaproxy++;
      const tracked = srv.tracks === undefined ? undefined : stat.get(srv.tracks);
      const check = r?.check ?? (tracked?.check === undefined ? undefined : { ...tracked.check, via: srv.tracks! });
      const pod = srv.id.startsWith("pod_") || podBackends.has(fe.backend!);
      servers.push({
        server: srv.name,
        target: pod ? { kind: "pod" } : { kind: "node", node: nodeOf.get(srv.id) ?? readable(srv.id) },
        endpoint:
          r?.address === undefined
            ? srv.endpoint
            : (r.address.match(/:/g) ?? []).length > 1 && !r.address.startsWith("[")
              ? bracket(r.address)
              : r.address,
        state: r?.state ?? "UNKNOWN",
        haproxyStatus: r?.status ?? "unknown to the running HAProxy",
        weight: r?.weight ?? srv.weight,
        ...(check === undefined ? {} : { check }),
        sessions: r?.sessions ?? 0,
      });
    }
    for (const bind of fe.binds) {
      const service = fe.backend === undefined ? undefined : serviceOf.get(fe.backend);
      const list = frontendsByVip.get(bind.address) ?? [];
      list.push({
        frontend: fe.id,
        port: bind.port,
        ...(service === undefined ? {} : { service }),
        status: row?.status ?? "UNKNOWN",
        sessions: row?.sessions ?? 0,
        ...(fe.backend === undefined ? {} : { backend: fe.backend }),
        servers,
      });
      frontendsByVip.set(bind.address, list);
    }
  }
  if (unknownToHaproxy > 0)
    notes.push(
      `${unknownToHaproxy} server(s) of the installed haproxy.cfg are unknown to the running HAProxy: it runs another config (reload it, or run portico apply)`,
    );

  const vips = [...frontendsByVip.keys()].sort(vipOrder).map((vip): StatusVip => {
    const held = addresses === undefined ? null : addresses.has(vip);
    const instance = s.vrrp.instances.find((i) => i.vips.some((v) => v === vip));
    const state: VrrpView =
      held === null
        ? "UNKNOWN"
        : held
          ? "MASTER"
          : s.keepalived === "running"
            ? "BACKUP"
            : s.keepalived === "stopped"
              ? "STOPPED"
              : "UNKNOWN";
    return {
      vip,
      held,
      vrrp: {
        state,
        ...(instance === undefined ? {} : { vrid: instance.vrid }),
        ...(instance?.master === undefined ? {} : { intendedMaster: instance.master }),
      },
      frontends: (frontendsByVip.get(vip) ?? []).sort((a, b) => a.port - b.port),
    };
  });
  return { node: s.node, interface: s.interface, vips, notes };
};

const bracket = (addr: string): string => {
  const at = addr.lastIndexOf(":");
  return `[${addr.slice(0, at)}]${addr.slice(at)}`;
};

const table = (rows: readonly (readonly string[])[]): string[] => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
};

const formatCheck = (c: StatusServer["check"]): string =>
  c === undefined
    ? "-"
    : [
        c.status,
        c.code === undefined ? "" : String(c.code),
        c.durationMs === undefined ? "" : `${c.durationMs}ms`,
        c.via === undefined ? "" : "(shared check)",
      ]
        .filter((x) => x !== "")
        .join(" ");

/** Colours for the server states; identity functions when the output is not a terminal. */
export interface StatusColours {
  readonly good: (s: string) => string;
  readonly bad: (s: string) => string;
  readonly warn: (s: string) => string;
}

/** No colour. */
export const NO_COLOURS: StatusColours = { good: (s) => s, bad: (s) => s, warn: (s) => s };

/** `portico status --output text`: one table per VIP. */
export const formatStatus = (v: StatusView, c: StatusColours = NO_COLOURS): string => {
  const out: string[] = [
    `LB node ${v.node} (${v.interface}): ${v.vips.length} VIP${v.vips.length === 1 ? "" : "s"}, ${v.vips.filter((x) => x.held === true).length} held here`,
  ];
  for (const n of v.notes) out.push(`note: ${n}`);
  for (const vip of v.vips) {
    out.push("");
    const held = vip.held === null ? "held: unknown" : vip.held ? c.good("held here") : "not held here";
    const vrid =
      vip.vrrp.vrid === undefined
        ? "no VRRP instance in keepalived.conf"
        : `vrid ${vip.vrrp.vrid}${vip.vrrp.intendedMaster === undefined ? "" : `, intended master ${vip.vrrp.intendedMaster}`}`;
    out.push(`VIP ${vip.vip}  ${held}  VRRP ${vip.vrrp.state} (${vrid})`);
    for (const fe of vip.frontends) {
      out.push(
        `  frontend :${fe.port}  ${fe.status}  ${fe.sessions} session${fe.sessions === 1 ? "" : "s"}  ${fe.service ?? fe.frontend}`,
      );
      if (fe.servers.length === 0) {
        out.push("    no servers");
        continue;
      }
      const rows = [["SERVER", "TARGET", "ENDPOINT", "STATE", "WEIGHT", "LAST CHECK", "SESSIONS"]];
      for (const s of fe.servers) {
        rows.push([
          s.server,
          s.target.kind === "node" ? `node ${s.target.node}` : "pod",
          s.endpoint,
          s.state,
          String(s.weight),
          formatCheck(s.check),
          String(s.sessions),
        ]);
      }
      const lines = table(rows);
      out.push(`    ${lines[0]!}`);
      fe.servers.forEach((s, i) => {
        const paint = s.state === "UP" ? c.good : s.state === "DOWN" || s.state === "UNKNOWN" ? c.bad : c.warn;
        out.push(`    ${lines[i + 1]!.replace(new RegExp(`\\b${s.state}\\b`), paint(s.state))}`);
      });
    }
  }
  if (v.l4 !== undefined) out.push(...formatL4Status(v.l4));
  if (v.bgp !== undefined) out.push("", ...formatBgpStatus(v.bgp, c));
  return `${out.join("\n")}\n`;
};
