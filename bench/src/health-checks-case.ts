// Figure 8, health-check load, and figure 7 at scale (equal load from the plan's weights), from
// one plan of N nodes x S Services (one TCP port each; even-numbered ones Local with pods on
// 5 nodes each, 1-4 pods per node, weighted pods-per-node; odd-numbered ones Cluster).
//   8. Health checks per second one LB node sends, counted from the rendered haproxy.cfg: every
//      server that checks (its own `check` or its backend's `default-server ... check`, not
//      `disabled`, not `track`) sends one check per `inter`. The naive plan checks every node for
//      every Service at the same interval.
//   7. Per-pod share max/min of each Local Service from its servers' weights (share of a pod =
//      its node's weight / total weight / pods on that node), with the weighting and with equal
//      weights (the same Local Services planned without the annotation).
// Usage: node health-checks-case.js <nodes> <services>  -> one JSON line.
import { ingest, parseConfig, plan, type Plan } from "@portico/core";
import { aConfig, aNode, aService, anEndpointSlice } from "@portico/core/testing";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { report } from "./_case.js";

const [nodes = 0, services = 0] = process.argv.slice(2).map(Number);
const nodeName = (i: number): string => `node-${i}`;
const podsOn = (svc: number, k: number): number => 1 + ((svc + k) % 4);

const cluster = (weighting: string, only: (s: number) => boolean = () => true): unknown[] => {
  const objects: unknown[] = [];
  for (let i = 0; i < nodes; i++)
    objects.push(aNode(nodeName(i), `198.18.${2 + Math.floor(i / 250)}.${1 + (i % 250)}`));
  for (let s = 0; s < services; s++) {
    if (!only(s)) continue;
    const local = s % 2 === 0;
    const name = `svc-${s}`;
    objects.push(
      aService({
        name,
        policy: local ? "Local" : "Cluster",
        healthCheckNodePort: 32000 + (s % 700),
        ports: [{ name: "http", port: 80, nodePort: 30000 + (s % 2700) }],
        annotations: local ? { "portico.dev/weighting": weighting } : {},
      }),
    );
    const endpoints: { ip: string; node: string }[] = [];
    for (let k = 0; k < (local ? 5 : 3); k++) {
      const node = nodeName((s * 7 + k * 131) % nodes);
      for (let j = 0; j < (local ? podsOn(s, k) : 1); j++)
        endpoints.push({ ip: `198.19.${(s * 5 + k) % 250}.${1 + ((s + j * 17) % 250)}`, node });
    }
    objects.push(anEndpointSlice("default", name, endpoints));
  }
  return objects;
};
const config = parseConfig(
  aConfig({
    pools: [{ name: "bench", addresses: ["198.18.128.0/18"] }],
    lbNodes: [
      { name: "lb1", address: "198.18.1.1", interface: "eth0" },
      { name: "lb2", address: "198.18.1.2", interface: "eth0" },
    ],
  }),
)._unsafeUnwrap();

const duration = (text: string | undefined): number => {
  const m = /^(\d+)(ms|s|m)?$/.exec(text ?? "");
  if (m === null) throw new Error(`unexpected duration ${text}`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : m[2] === "m" ? 60_000 : 1);
};
/** Checks per second the rendered config sends, and the number of checking servers. */
const checksPerSecond = (cfg: string): { rate: number; servers: number } => {
  let rate = 0;
  let servers = 0;
  let defaults = { check: false, inter: 2000 };
  let section = { check: false, inter: 2000 };
  type Checking = { check: boolean; inter: number };
  const settings = (line: string, base: Checking): Checking => {
    const words = line.trim().split(/\s+/);
    const at = words.indexOf("inter");
    return { check: base.check || words.includes("check"), inter: at >= 0 ? duration(words[at + 1]) : base.inter };
  };
  for (const line of cfg.split("\n")) {
    if (/^\S/.test(line)) section = line.startsWith("defaults") ? defaults : { ...defaults };
    const trimmed = line.trim();
    if (trimmed.startsWith("default-server ")) {
      const next = settings(trimmed, section);
      if (line.startsWith("    ") && section === defaults) defaults = next;
      section = next;
    } else if (trimmed.startsWith("server ")) {
      const words = trimmed.split(/\s+/);
      const own = settings(trimmed, section);
      if (own.check && !words.includes("disabled") && !words.includes("track")) {
        servers += 1;
        rate += 1000 / own.inter;
      }
    }
  }
  return { rate, servers };
};

const t0 = performance.now();
const weighted = plan(ingest(cluster("pods-per-node")), config);
const cfg = renderHaproxy(weighted, {})._unsafeUnwrap();
if (weighted.services.some((s) => s.state !== "ready"))
  throw new Error(`benchmark cluster did not plan cleanly: ${JSON.stringify(weighted.diagnostics.slice(0, 3))}`);
const counted = checksPerSecond(cfg);
const interMs = config.healthCheck.intervalMs;
const naive = (nodes * services * 1000) / interMs;

// Services are planned independently: the Local ones alone give the same backends, far faster.
const equal = plan(ingest(cluster("equal", (s) => s % 2 === 0)), config);
/** Worst per-pod share max/min over the Local Services of a plan. */
const worstRatio = (p: Plan): number => {
  let worst = 1;
  for (let s = 0; s < services; s += 2) {
    const backend = p.backends.find((b) => b.service === `default/svc-${s}`);
    if (backend === undefined) throw new Error(`no backend for svc-${s}`);
    const total = backend.servers.reduce((n, x) => n + x.weight, 0);
    const shares = backend.servers.map((x) => {
      const k = [0, 1, 2, 3, 4].find((k) => nodeName((s * 7 + k * 131) % nodes) === x.node);
      return x.weight / total / podsOn(s, k ?? 0);
    });
    worst = Math.max(worst, Math.max(...shares) / Math.min(...shares));
  }
  return worst;
};
report({
  figures: [
    {
      name: `8. health checks/s one LB node sends at ${nodes} nodes x ${services} Services (from haproxy.cfg)`,
      values: [counted.rate],
      unit: "checks/s",
    },
    {
      name: `8. health checks/s, naive plan (every node for every Service, inter ${interMs} ms)`,
      values: [naive],
      unit: "checks/s",
    },
    { name: "8. health checks: naive / Portico", values: [naive / counted.rate], unit: "x" },
    {
      name: `7. equal load (from the plan, ${services / 2} Local Services, 1-4 pods per node): worst per-pod share max/min with pods-per-node`,
      values: [worstRatio(weighted)],
      unit: "",
    },
    {
      name: "7. equal load (from the plan): worst per-pod share max/min without (equal weights)",
      values: [worstRatio(equal)],
      unit: "",
    },
  ],
  details: { checkingServers: counted.servers, configBytes: cfg.length, seconds: (performance.now() - t0) / 1000 },
});
