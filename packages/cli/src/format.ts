import type { Diagnostic, Plan } from "@portico/core";
import { summarise } from "./status-report.js";

/** `portico plan --output text`: a readable account of the plan, Service by Service. */
export const formatPlan = (plan: Plan): string => {
  const s = summarise(plan);
  const lines: string[] = [
    `Plan: ${s.services} Service${s.services === 1 ? "" : "s"} (${s.ready} ready, ${s.partial} partial, ${s.failed} failed), ` +
      `${s.frontends} frontend${s.frontends === 1 ? "" : "s"}, ${l4Count(plan)}${s.vrrpInstances} VRRP instance${s.vrrpInstances === 1 ? "" : "s"} over ${plan.lbNodes.length} LB node${plan.lbNodes.length === 1 ? "" : "s"}`,
  ];
  const backends = new Map(plan.backends.map((b) => [b.id, b]));
  const masters = new Map(plan.vrrpInstances.flatMap((i) => i.vips.map((v) => [v as string, i] as const)));
  for (const svc of plan.services) {
    lines.push("");
    const vip = svc.vips.length > 0 ? svc.vips.join(", ") : "no address";
    const proxy = svc.proxyProtocol === "none" ? "" : `, PROXY ${svc.proxyProtocol}`;
    lines.push(`${svc.key}  ${svc.state}  ${vip}  ipMode ${svc.ipMode}${proxy}`);
    for (const fe of plan.frontends.filter((f) => f.service === svc.key).sort((a, b) => a.port - b.port)) {
      const be = backends.get(fe.backend);
      if (be === undefined) continue;
      const h = be.healthCheck;
      const hc =
        h.kind === "http"
          ? `GET ${h.path} on :${h.port} (healthCheckNodePort)`
          : h.kind === "track" && h.source === "healthCheckNodePort"
            ? `GET /healthz on :${checkPort(plan, h.backend)} (healthCheckNodePort, shared by the Service's ports)`
            : h.kind === "track"
              ? `GET /healthz on :${plan.settings.healthCheck.kubeProxyPort} (kube-proxy, shared per node)`
              : "TCP connect (pod)";
      const servers =
        be.servers.length === 0
          ? "no eligible nodes"
          : be.servers
              .map((x) => `${x.node} ${x.address.includes(":") ? `[${x.address}]` : x.address}:${x.port}`)
              .join(", ");
      const ranges = fe.sourceRanges ?? [];
      const admits = ranges.length === 0 ? "" : ` from ${ranges.join(", ")}`;
      lines.push(
        `  ${fe.protocol} ${fe.port}${admits} -> ${be.balance} over ${be.servers.length}: ${servers}; check ${hc}`,
      );
    }
    for (const l of (plan.l4Listeners ?? []).filter((x) => x.service === svc.key)) {
      const hc =
        l.healthCheck.kind === "http"
          ? `GET /healthz on :${l.healthCheck.port} (healthCheckNodePort)`
          : l.healthCheck.source === "healthCheckNodePort"
            ? `GET /healthz on :${checkPort(plan, l.healthCheck.backend)} (healthCheckNodePort, shared by the Service's ports)`
            : `GET /healthz on :${plan.settings.healthCheck.kubeProxyPort} (kube-proxy, shared per node)`;
      const ranges = l.sourceRanges ?? [];
      const admits = ranges.length === 0 ? "" : ` from ${ranges.join(", ")}`;
      const servers = l.servers.length === 0 ? "no eligible nodes" : l.servers.map(serverText).join(", ");
      const hashOn = l.affinity === undefined ? "" : ", hash on source address";
      lines.push(
        `  ${l.protocol} ${l.port}${admits} -> ${l.mode} (nftables), Maglev ${l.tableSize}${hashOn} over ` +
          `${l.servers.length}: ${servers}; check ${hc}`,
      );
    }
    for (const v of svc.vips) {
      const inst = masters.get(v);
      if (inst !== undefined)
        lines.push(`  VRRP vrid ${inst.vrid}: ${inst.priorities.map((p) => `${p.lbNode} ${p.priority}`).join(" > ")}`);
    }
    for (const d of svc.diagnostics) lines.push(`  ${d.severity}: ${d.reason}: ${stripRef(d)}`);
  }
  const keys = new Set<string>(plan.services.map((x) => x.key));
  const other = plan.diagnostics.filter(
    (d) => !(d.object.kind === "Service" && keys.has(`${d.object.namespace}/${d.object.name}`)),
  );
  if (other.length > 0) {
    lines.push("", "Other objects:");
    for (const d of other) lines.push(`  ${d.severity}: ${d.reason}: ${d.message}`);
  }
  return `${lines.join("\n")}\n`;
};

// Inside a Service's block its name is already the heading.
const stripRef = (d: Diagnostic): string => {
  const prefix = `Service ${d.object.namespace}/${d.object.name}: `;
  return d.message.startsWith(prefix) ? d.message.slice(prefix.length) : d.message;
};

const serverText = (x: { node: string; address: string; port: number; weight: number }): string =>
  `${x.node} ${x.address.includes(":") ? `[${x.address}]` : x.address}:${x.port}${x.weight === 1 ? "" : ` weight ${x.weight}`}`;

// Said only when the plan has L4 listeners, so plans without them read as they always have.
const l4Count = (plan: Plan): string => {
  const n = plan.l4Listeners?.length ?? 0;
  return n === 0 ? "" : `${n} L4 listener${n === 1 ? "" : "s"} (nftables), `;
};
// The health port a check backend checks.
const checkPort = (plan: Plan, id: string): number | string =>
  (plan.checks ?? []).find((c) => c.id === id)?.healthCheck.port ?? "?";
