import type { HostileCase } from "@portico/testkit";
import type { Backend, Frontend, Plan, Server } from "@portico/core";
import { typicalPlan } from "./fixtures.js";

// Plans a careless or malicious producer could hand the renderer: branded fields cast from
// strings the planner would never make. The renderer must refuse every one of them.

/** Strings that would change the meaning of haproxy.cfg if they were printed. */
export const HOSTILE_STRINGS: readonly string[] = [
  "fe_x\n    bind 0.0.0.0:22",
  "fe_x\r\nlisten evil",
  "fe_x # trailing comment",
  "${HOME}",
  '"quoted"',
  "'single'",
  "two words",
  "ctl\u0000nul",
  "ctl\u001b[31mred",
  "tab\there",
  "\u2028line-separator",
  "198.18.100.10\n    bind 0.0.0.0:22",
];

// Typed shortcuts for "the typical plan with one field replaced by anything at all".
const as = <T>(value: unknown): T => value as T;
const first = <T>(list: readonly T[]): T => {
  const x = list[0];
  if (x === undefined) throw new Error("fixture has no first element");
  return x;
};

const withFrontend = (patch: Record<string, unknown>): Plan => {
  const p = typicalPlan();
  return { ...p, frontends: [{ ...first(p.frontends), ...patch } as Frontend, ...p.frontends.slice(1)] };
};

const withBackend = (patch: Record<string, unknown>): Plan => {
  const p = typicalPlan();
  return { ...p, backends: [{ ...first(p.backends), ...patch } as Backend, ...p.backends.slice(1)] };
};

const withHealthCheck = (patch: Record<string, unknown>): Plan =>
  withBackend({ healthCheck: { ...first(typicalPlan().backends).healthCheck, ...patch } });

const withServer = (patch: Record<string, unknown>): Plan => {
  const b = first(typicalPlan().backends);
  return withBackend({ servers: [{ ...first(b.servers), ...patch } as Server, ...b.servers.slice(1)] });
};

const withStatsSocket = (statsSocket: unknown): Plan => {
  const p = typicalPlan();
  return {
    ...p,
    settings: { ...p.settings, haproxy: { ...p.settings.haproxy, statsSocket: as<string>(statsSocket) } },
  };
};

/** Each hostile string in each field that reaches the file. */
export const hostileCases = (): HostileCase[] =>
  HOSTILE_STRINGS.flatMap((s) => [
    { title: `frontend id ${JSON.stringify(s)}`, plan: withFrontend({ id: s }), forbidden: [s] },
    { title: `frontend vip ${JSON.stringify(s)}`, plan: withFrontend({ vip: s }), forbidden: [s] },
    { title: `frontend backend ${JSON.stringify(s)}`, plan: withFrontend({ backend: s }), forbidden: [s] },
    { title: `backend id ${JSON.stringify(s)}`, plan: withBackend({ id: s }), forbidden: [s] },
    { title: `backend balance ${JSON.stringify(s)}`, plan: withBackend({ balance: s }), forbidden: [s] },
    { title: `health check path ${JSON.stringify(s)}`, plan: withHealthCheck({ path: s }), forbidden: [s] },
    { title: `server id ${JSON.stringify(s)}`, plan: withServer({ id: s }), forbidden: [s] },
    { title: `server address ${JSON.stringify(s)}`, plan: withServer({ address: s }), forbidden: [s] },
    { title: `stats socket ${JSON.stringify(s)}`, plan: withStatsSocket(`/run/${s}`), forbidden: [s] },
    {
      title: `frontend source range ${JSON.stringify(s)}`,
      plan: withFrontend({ sourceRanges: ["198.18.0.0/15", s] }),
      forbidden: [s],
    },
    {
      title: `frontend source range suffix ${JSON.stringify(s)}`,
      plan: withFrontend({ sourceRanges: [`198.18.0.0/15${s}`] }),
      forbidden: [s],
    },
    {
      title: `tracked check backend ${JSON.stringify(s)}`,
      plan: withBackend({ healthCheck: { kind: "track", source: "kubeProxy", backend: s } }),
      forbidden: [s],
    },
    {
      title: `affinity timeout ${JSON.stringify(s)}`,
      plan: withBackend({ affinity: { kind: "clientIp", timeoutSeconds: s } }),
      forbidden: [s],
    },
    {
      title: `backend timeout ${JSON.stringify(s)}`,
      plan: withBackend({ timeouts: { connectMs: s } }),
      forbidden: [s],
    },
  ]);

/** Plans with something out of range or inconsistent: each must be an Err, never a throw. */
export const unrenderablePlans = (): Plan[] => [
  // Source ranges must be canonical: the planner masks host bits, so a plan with them set was not made by it.
  withFrontend({ sourceRanges: ["198.18.0.1/15"] }),
  withFrontend({ clientTimeoutMs: 0 }),
  withBackend({ affinity: { kind: "clientIp", timeoutSeconds: 0 } }),
  withBackend({ affinity: { kind: "cookie", timeoutSeconds: 10 } }),
  withBackend({ timeouts: { tunnelMs: 86_400_001 } }),
  withBackend({ healthCheck: { kind: "bogus" } }),
  withBackend({ healthCheck: { kind: "track", source: "kubeProxy", backend: "chk_not_in_this_plan" } }),
  withFrontend({ port: 0 }),
  withFrontend({ port: 70000 }),
  withFrontend({ port: 80.5 }),
  withFrontend({ port: "80" }),
  withFrontend({ protocol: "UDP" }),
  withFrontend({ vip: "198.018.100.10" }),
  withFrontend({ vip: 42 }),
  withFrontend({ backend: "be_not_in_this_plan" }),
  withFrontend({ id: "" }),
  withFrontend({ id: "x".repeat(64) }),
  withFrontend({ id: "Upper_Case" }),
  withBackend({ balance: "fastest" }),
  withBackend({ proxyProtocol: "v3" }),
  withHealthCheck({ port: 0 }),
  withHealthCheck({ intervalMs: 0 }),
  withHealthCheck({ intervalMs: 1.5 }),
  withHealthCheck({ fall: 0 }),
  withHealthCheck({ rise: -1 }),
  withHealthCheck({ expectStatus: 42 }),
  withHealthCheck({ path: "healthz" }),
  withServer({ weight: 257 }),
  withServer({ weight: -1 }),
  withServer({ port: 65536 }),
  withServer({ address: "2001:db8::1%eth0" }),
  withStatsSocket("run/haproxy/admin.sock"),
  withStatsSocket("/run/../etc/passwd"),
  withStatsSocket(undefined),
  // Duplicate names: HAProxy would refuse them; the renderer says so first.
  (() => {
    const p = typicalPlan();
    return { ...p, frontends: [...p.frontends, first(p.frontends)] };
  })(),
  withBackend({
    servers: [first(first(typicalPlan().backends).servers), first(first(typicalPlan().backends).servers)],
  }),
];
