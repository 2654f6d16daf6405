import { readFile } from "node:fs/promises";

/** One kernel setting `portico doctor` judges: what it found, and the fix when it is not enough. */
export interface SysctlFinding {
  readonly name: string;
  readonly verdict: "OK" | "WARN";
  readonly detail: string;
  readonly fix?: string;
}

const read = (procRoot: string, key: string): Promise<string | undefined> =>
  readFile(`${procRoot}/sys/${key.replaceAll(".", "/")}`, "utf8").then(
    (t) => t.trim(),
    () => undefined,
  );

const finding = (name: string, good: boolean, detail: string, fix: string): SysctlFinding =>
  good ? { name, verdict: "OK", detail } : { name, verdict: "WARN", detail, fix };

/**
 * The kernel settings an LB node proxying `maxconn` connections needs, read from `procRoot`:
 * every proxied connection is one outgoing connection from the LB node to a node (an ephemeral
 * port per node address and port), lingers in TIME_WAIT after it closes, and takes two
 * conntrack entries while conntrack is loaded.
 */
export const checkSysctls = async (procRoot: string, maxconn: number): Promise<SysctlFinding[]> => {
  const out: SysctlFinding[] = [];
  const limits = await readFile(`${procRoot}/self/limits`, "utf8").catch(() => "");
  const hard = Number(/^Max open files\s+\S+\s+(\d+)/m.exec(limits)?.[1]);
  // HAProxy needs two descriptors a connection and refuses to start when it cannot raise its limit.
  if (Number.isInteger(hard) && hard > 0) {
    const fits = Math.floor((hard - 1_024) / 2);
    out.push(
      finding(
        "open files",
        fits >= maxconn,
        `hard limit ${hard}: HAProxy can start with maxconn up to ${fits}${fits < maxconn ? ` (apply lowers haproxy.maxconn ${maxconn} to that)` : ""}`,
        `raise LimitNOFILE to ${2 * maxconn + 1_024} for haproxy.service and portico.service, or lower haproxy.maxconn`,
      ),
    );
  }
  const range = (await read(procRoot, "net.ipv4.ip_local_port_range"))?.split(/\s+/).map(Number);
  if (range !== undefined && range.length === 2) {
    const width = range[1]! - range[0]! + 1;
    out.push(
      finding(
        "ephemeral ports",
        width >= 50_000,
        `net.ipv4.ip_local_port_range ${range.join(" ")}: ${width} connections at once to one node address and port`,
        "sysctl -w net.ipv4.ip_local_port_range='1024 65535' (an LB node serves no ports of its own in that range)",
      ),
    );
  }
  const reuse = await read(procRoot, "net.ipv4.tcp_tw_reuse");
  if (reuse !== undefined)
    out.push(
      finding(
        "TIME_WAIT reuse",
        reuse === "1",
        `net.ipv4.tcp_tw_reuse=${reuse}${reuse === "2" ? " (loopback only)" : ""}`,
        "sysctl -w net.ipv4.tcp_tw_reuse=1: connections to nodes may reuse ports still in TIME_WAIT",
      ),
    );
  const somaxconn = Number(await read(procRoot, "net.core.somaxconn"));
  if (Number.isInteger(somaxconn) && somaxconn > 0)
    out.push(
      finding(
        "listen backlog",
        somaxconn >= 4096,
        `net.core.somaxconn=${somaxconn}: caps every frontend's accept queue`,
        "sysctl -w net.core.somaxconn=4096 (or more) so a burst of new connections is not dropped",
      ),
    );
  const conntrack = Number(await read(procRoot, "net.netfilter.nf_conntrack_max"));
  if (!Number.isInteger(conntrack) || conntrack <= 0)
    out.push({ name: "conntrack", verdict: "OK", detail: "conntrack is not loaded: nothing to size" });
  else
    out.push(
      finding(
        "conntrack",
        conntrack >= 2 * maxconn,
        `net.netfilter.nf_conntrack_max=${conntrack}; haproxy.maxconn ${maxconn} needs ${2 * maxconn} (client side and node side)`,
        `sysctl -w net.netfilter.nf_conntrack_max=${2 * maxconn}, or exempt proxied VIP traffic from conntrack ` +
          "(nft: a raw-priority prerouting rule `ip daddr <pool> notrack`, when no nat or direct Service uses those VIPs)",
      ),
    );
  return out;
};
