import { aNode, anEndpointSlice, aService, planOf } from "@portico/core/testing";
import {
  parseIp,
  parsePort,
  parseVrid,
  type Backend,
  type Frontend,
  type Ident,
  type Ip,
  type LbNodeName,
  type Millis,
  type NodeName,
  type Plan,
  type PlanSettings,
  type Port,
  type Server,
  type ServiceKey,
  type ServicePlan,
} from "@portico/core";

// Hand-built plans, as the planner would produce them. Parsed types come from the core's parse
// functions; identifiers and names are cast, the way a planner-made value would carry them.

export const ip = (text: string): Ip => parseIp(text)._unsafeUnwrap();
export const port = (n: number): Port => parsePort(n)._unsafeUnwrap();
export const ident = (text: string): Ident => text as Ident;
const key = (text: string): ServiceKey => text as ServiceKey;
const node = (text: string): NodeName => text as NodeName;
const lb = (text: string): LbNodeName => text as LbNodeName;

/** Debian's default paths and Portico's default timings. */
export const settings: PlanSettings = {
  haproxy: {
    configPath: "/etc/haproxy/haproxy.cfg",
    statsSocket: "/run/haproxy/admin.sock",
    masterSocket: "/run/haproxy/master.sock",
  },
  keepalived: { configPath: "/etc/keepalived/keepalived.conf" },
  vrrp: {
    vridFirst: parseVrid(1)._unsafeUnwrap(),
    vridLast: parseVrid(255)._unsafeUnwrap(),
    advertIntMs: 100 as Millis,
  },
  healthCheck: { kubeProxyPort: port(10256), intervalMs: 2000 as Millis, rise: 2, fall: 3 },
};

const lbNodes: Plan["lbNodes"] = [
  { name: lb("lb1"), address: ip("198.18.1.1"), interface: "eth0" },
  { name: lb("lb2"), address: ip("198.18.1.2"), interface: "eth0" },
];

/** No Services at all: the file still carries global and defaults. */
export const emptyPlan = (): Plan => ({
  services: [],
  frontends: [],
  backends: [],
  vrrpInstances: [],
  lbNodes,
  diagnostics: [],
  settings,
});

const server = (id: string, name: string, address: string, nodePort: number, weight = 100): Server => ({
  id: ident(id),
  node: node(name),
  address: ip(address),
  port: port(nodePort),
  weight,
});

const servicePlan = (
  k: string,
  vips: readonly string[],
  proxyProtocol: ServicePlan["proxyProtocol"],
  frontends: readonly string[],
  ports: readonly number[],
): ServicePlan => ({
  key: key(k),
  state: "ready",
  vips: vips.map(ip),
  ipMode: "VIP",
  proxyProtocol,
  frontends: frontends.map(ident),
  status: {
    loadBalancer: {
      ingress: vips.map((v) => ({
        ip: ip(v),
        ipMode: "VIP" as const,
        ports: ports.map((p) => ({ port: port(p), protocol: "TCP" as const })),
      })),
    },
    conditions: [
      { type: "Ready", status: "True", reason: "Planned", message: "every port is served", observedGeneration: 1 },
    ],
  },
  diagnostics: [],
});

const frontend = (id: string, service: string, vip: string, p: number, backend: string): Frontend => ({
  id: ident(id),
  service: key(service),
  vip: ip(vip),
  port: port(p),
  protocol: "TCP",
  backend: ident(backend),
});

// default/web: externalTrafficPolicy Local, dual-stack, PROXY v2; checked on its
// healthCheckNodePort so only nodes with a ready endpoint get traffic.
const webBackend = (id: string, family: 4 | 6, servers: readonly Server[]): Backend => ({
  id: ident(id),
  service: key("default/web"),
  servicePort: port(80),
  family,
  balance: "roundrobin",
  proxyProtocol: "v2",
  healthCheck: {
    kind: "http",
    source: "healthCheckNodePort",
    path: "/healthz",
    port: port(32100),
    expectStatus: 200,
    intervalMs: 2000,
    rise: 2,
    fall: 3,
  },
  servers,
});

// shop/api: externalTrafficPolicy Cluster; every node may forward, so kube-proxy's own health
// port (10256) decides.
const apiBackend: Backend = {
  id: ident("be_shop_api_443_4_5b0e91d3"),
  service: key("shop/api"),
  servicePort: port(443),
  family: 4,
  balance: "leastconn",
  proxyProtocol: "none",
  healthCheck: {
    kind: "http",
    source: "kubeProxy",
    path: "/healthz",
    port: port(10256),
    expectStatus: 200,
    intervalMs: 2000,
    rise: 2,
    fall: 3,
  },
  servers: [
    server("srv_worker_1_0c4d2e7a", "worker-1", "198.18.0.11", 31443),
    server("srv_worker_2_77a1f0b9", "worker-2", "198.18.0.12", 31443),
    server("srv_worker_3_e2b85c16", "worker-3", "198.18.0.13", 31443),
  ],
};

/** Two Services: a dual-stack Local one with PROXY v2, a Cluster one with three servers. */
export const typicalPlan = (): Plan => ({
  services: [
    servicePlan(
      "default/web",
      ["198.18.100.10", "2001:db8:100::10"],
      "v2",
      ["fe_default_web_80_4_9a3f1c2e", "fe_default_web_80_6_41d7be08"],
      [80],
    ),
    servicePlan("shop/api", ["198.18.100.11"], "none", ["fe_shop_api_443_4_d06c3a95"], [443]),
  ],
  frontends: [
    frontend("fe_default_web_80_4_9a3f1c2e", "default/web", "198.18.100.10", 80, "be_default_web_80_4_2c8e5f71"),
    frontend("fe_default_web_80_6_41d7be08", "default/web", "2001:db8:100::10", 80, "be_default_web_80_6_f3a90d24"),
    frontend("fe_shop_api_443_4_d06c3a95", "shop/api", "198.18.100.11", 443, "be_shop_api_443_4_5b0e91d3"),
  ],
  backends: [
    webBackend("be_default_web_80_4_2c8e5f71", 4, [
      server("srv_worker_1_0c4d2e7a", "worker-1", "198.18.0.11", 30080),
      server("srv_worker_2_77a1f0b9", "worker-2", "198.18.0.12", 30080),
    ]),
    webBackend("be_default_web_80_6_f3a90d24", 6, [
      server("srv_worker_1_0c4d2e7a", "worker-1", "2001:db8:1::11", 30080),
      server("srv_worker_2_77a1f0b9", "worker-2", "2001:db8:1::12", 30080),
    ]),
    apiBackend,
  ],
  vrrpInstances: [
    {
      id: ident("vi_4_01"),
      vrid: parseVrid(1)._unsafeUnwrap(),
      family: 4,
      vips: [ip("198.18.100.10"), ip("198.18.100.11")],
      priorities: [
        { lbNode: lb("lb1"), priority: 150 },
        { lbNode: lb("lb2"), priority: 100 },
      ],
    },
    {
      id: ident("vi_6_02"),
      vrid: parseVrid(2)._unsafeUnwrap(),
      family: 6,
      vips: [ip("2001:db8:100::10")],
      priorities: [
        { lbNode: lb("lb2"), priority: 150 },
        { lbNode: lb("lb1"), priority: 100 },
      ],
    },
  ],
  lbNodes,
  diagnostics: [],
  settings,
});

/**
 * edge/mqtt: PROXY v1, `source` balance, a sub-second check interval, and no ready endpoint on
 * any node yet, so its backend has no servers (it must still render and validate).
 */
export const proxyV1NoServersPlan = (): Plan => ({
  ...emptyPlan(),
  services: [servicePlan("edge/mqtt", ["198.18.100.12"], "v1", ["fe_edge_mqtt_1883_4_6e2d0b7c"], [1883])],
  frontends: [
    frontend("fe_edge_mqtt_1883_4_6e2d0b7c", "edge/mqtt", "198.18.100.12", 1883, "be_edge_mqtt_1883_4_a4f18c35"),
  ],
  backends: [
    {
      id: ident("be_edge_mqtt_1883_4_a4f18c35"),
      service: key("edge/mqtt"),
      servicePort: port(1883),
      family: 4,
      balance: "source",
      proxyProtocol: "v1",
      healthCheck: {
        kind: "http",
        source: "healthCheckNodePort",
        path: "/healthz",
        port: port(32101),
        expectStatus: 200,
        intervalMs: 500,
        rise: 1,
        fall: 2,
      },
      servers: [],
    },
  ],
});

const dualNodes = (): Record<string, unknown>[] => [
  aNode("worker-1", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }),
  aNode("worker-2", "198.18.2.2", { moreIps: ["2001:db8:2::2"] }),
  aNode("worker-3", "198.18.2.3"),
];

/**
 * From the real planner: a RequireDualStack Local Service with PROXY v2 and source ranges of both
 * families; each family's backend uses the nodes' address of that family, and worker-3 (IPv4
 * only) is no IPv6 backend.
 */
export const dualStackPlan = (): Plan =>
  planOf([
    ...dualNodes(),
    aService({
      name: "web",
      policy: "Local",
      healthCheckNodePort: 32100,
      ipFamilies: ["IPv4", "IPv6"],
      ipFamilyPolicy: "RequireDualStack",
      loadBalancerSourceRanges: ["198.18.0.0/15", " 2001:db8:0:0::/32", "198.18.7.9/16"],
      annotations: { "portico.dev/proxy-protocol": "v2" },
    }),
  ]);

/**
 * From the real planner: two Services sharing one VIP under portico.dev/allow-shared-ip (DNS over
 * TCP with Local policy, HTTPS with Cluster policy and different selectors): one address, a
 * frontend and a backend per port; the Cluster one tracks the shared kube-proxy checks.
 */
export const sharedVipPlan = (): Plan =>
  planOf([
    ...dualNodes(),
    aService({
      namespace: "infra",
      name: "dns",
      created: "2026-01-01T00:00:00Z",
      policy: "Local",
      healthCheckNodePort: 32053,
      ports: [{ name: "dns-tcp", port: 53, nodePort: 30053 }],
      annotations: { "portico.dev/allow-shared-ip": "edge" },
    }),
    anEndpointSlice("infra", "dns", [{ ip: "10.1.0.1", node: "worker-2" }]),
    aService({
      namespace: "infra",
      name: "https",
      created: "2026-01-02T00:00:00Z",
      ports: [{ name: "https", port: 443, nodePort: 30443 }],
      annotations: { "portico.dev/allow-shared-ip": "edge", "portico.dev/balance": "leastconn" },
    }),
  ]);

/**
 * From the real planner: the per-Service options HAProxy applies: ClientIP affinity, source
 * balancing, timeouts, Local pods-per-node weights (3 pods, 1 pod, 1 terminating) and own check
 * timing.
 */
export const serviceOptionsPlan = (): Plan =>
  planOf([
    ...dualNodes(),
    aService({
      namespace: "shop",
      name: "cart",
      policy: "Local",
      healthCheckNodePort: 32200,
      sessionAffinity: "ClientIP",
      sessionAffinityTimeoutSeconds: 600,
      annotations: {
        "portico.dev/balance": "source",
        "portico.dev/weighting": "pods-per-node",
        "portico.dev/timeout-connect": "3s",
        "portico.dev/timeout-client": "2m",
        "portico.dev/timeout-server": "2m",
        "portico.dev/timeout-tunnel": "1h",
        "portico.dev/health-check-interval": "5s",
        "portico.dev/health-check-rise": "1",
        "portico.dev/health-check-fall": "2",
      },
    }),
    anEndpointSlice("shop", "cart", [
      { ip: "10.2.0.1", node: "worker-1" },
      { ip: "10.2.0.2", node: "worker-1" },
      { ip: "10.2.0.3", node: "worker-1" },
      { ip: "10.2.0.4", node: "worker-2" },
      { ip: "10.2.0.5", node: "worker-3", ready: false, serving: true, terminating: true },
    ]),
  ]);

/**
 * The typical plan with every optional HAProxy setting of the config set: threads, exporter,
 * maxconn, check intervals, hard-stop-after, reloads, user, group, chroot and log target.
 */
export const haproxyOptionsPlan = (): Plan => {
  const plan = typicalPlan();
  return {
    ...plan,
    settings: {
      ...plan.settings,
      haproxy: {
        ...plan.settings.haproxy,
        frontendMaxconn: 5_000,
        threads: 4,
        prometheus: { address: ip("127.0.0.1"), port: port(8405) },
        maxconn: 200_000,
        hardStopAfterMs: 3_600_000 as Millis,
        maxReloads: 20,
        user: "haproxy",
        group: "haproxy",
        chroot: "/var/lib/haproxy",
        logTarget: "/dev/log",
      },
      healthCheck: { ...plan.settings.healthCheck, fastinterMs: 500 as Millis, downinterMs: 1_000 as Millis },
    },
  };
};

/** Every golden case: `test/golden/<name>.cfg` holds its render. */
export const goldenCases: Readonly<Record<string, () => Plan>> = {
  empty: emptyPlan,
  typical: typicalPlan,
  "proxy-v1-no-servers": proxyV1NoServersPlan,
  "dual-stack": dualStackPlan,
  "shared-vip": sharedVipPlan,
  "service-options": serviceOptionsPlan,
  "haproxy-options": haproxyOptionsPlan,
};
