import { ipFamily, poolOf, type Config, type Plan } from "@portico/core";

/** Share of a pool in use above which `portico plan` warns. */
export const POOL_WARN_RATIO = 0.9;

/**
 * What a seasoned operator would point out about a plan: Cluster-policy Services (each packet may
 * cross to another node), Services whose pods do not learn the client's address (no PROXY
 * protocol, whatever the policy), PROXY protocol (the pods must expect it), ClientIP affinity
 * through nodePorts (kube-proxy pins per LB node, not per client), pools nearly used up, and an
 * LB node mastering far more VIPs than the others.
 */
export const advise = (plan: Plan, config: Config): string[] => {
  const out: string[] = [];
  const cluster = [
    ...new Set(plan.backends.filter((b) => b.healthCheck.source === "kubeProxy").map((b) => b.service as string)),
  ].sort();
  if (cluster.length > 0) {
    out.push(
      `${cluster.join(", ")} ${cluster.length === 1 ? "uses" : "use"} externalTrafficPolicy: Cluster: a node may forward each connection to a pod on another node (twice the packet cost). Local sends traffic only to nodes with ready pods.`,
    );
  }
  // HAProxy opens its own connection to the node, so neither policy shows the client's address to
  // the pods: only the PROXY protocol carries it.
  for (const s of plan.services.filter((x) => x.proxyProtocol === "none" && x.state !== "failed")) {
    out.push(
      `${s.key}: its pods see the LB node's address, not the client's, whatever its externalTrafficPolicy (Local included); only the PROXY protocol (portico.dev/proxy-protocol: v2) gives them the client address.`,
    );
  }
  for (const s of plan.services.filter((x) => x.proxyProtocol !== "none")) {
    out.push(
      `${s.key} sends PROXY ${s.proxyProtocol}: its pods must expect the header (e.g. ingress-nginx use-proxy-protocol: "true"), or every connection fails.`,
    );
  }
  out.push(...affinityAdvice(plan));
  for (const pool of config.pools) {
    for (const family of [4, 6] as const) {
      const size = pool.ranges.filter((r) => r.family === family).reduce((n, r) => n + (r.last - r.first + 1n), 0n);
      if (size === 0n) continue;
      const taken = plan.services
        .flatMap((s) => s.vips)
        .filter((v) => ipFamily(v) === family && poolOf(v, config.pools) === pool.name).length;
      if (BigInt(taken) * 100n >= size * BigInt(Math.round(POOL_WARN_RATIO * 100))) {
        out.push(
          `pool ${pool.name} has ${taken} of ${size} IPv${family} addresses in use: add addresses before it runs out.`,
        );
      }
    }
  }
  const masters = new Map<string, number>(plan.lbNodes.map((n) => [n.name as string, 0]));
  for (const i of plan.vrrpInstances) {
    const m = i.priorities[0]?.lbNode;
    if (m !== undefined) masters.set(m, (masters.get(m) ?? 0) + i.vips.length);
  }
  const counts = [...masters.values()];
  const total = counts.reduce((a, b) => a + b, 0);
  if (plan.lbNodes.length > 1 && total >= plan.lbNodes.length * 2) {
    const avg = total / plan.lbNodes.length;
    for (const [node, n] of masters) {
      if (n > avg * 1.5)
        out.push(
          `LB node ${node} masters ${n} of ${total} VIPs (average ${avg.toFixed(1)}): its failure moves more traffic than the others'.`,
        );
    }
  }
  return out;
};

// kube-proxy keys its own ClientIP affinity on the source it sees: through a nodePort that is the
// LB node's address, so each LB node's traffic through a node lands on one pod.
const affinityAdvice = (plan: Plan): string[] => {
  const pinned = new Map<string, number>();
  for (const b of plan.backends)
    if (b.affinity !== undefined && b.target === "nodePort") pinned.set(b.service, b.affinity.timeoutSeconds);
  return [...pinned]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(
      ([service, seconds]) =>
        `${service} uses sessionAffinity: ClientIP: HAProxy keeps each client on one node, but kube-proxy there applies the Service's own affinity to the address it sees, the LB node's, so everything one LB node sends to that node goes to one pod for ${seconds} s. For per-client affinity route to the pods directly (podIpsRoutable: true) or run one pod per node with externalTrafficPolicy: Local.`,
    );
};
