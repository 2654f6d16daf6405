import {
  ipFamily,
  parseIp,
  parsePort,
  parseVrid,
  type Ident,
  type Ip,
  type LbNode,
  type LbNodeName,
  type Millis,
  type Plan,
  type PlanSettings,
  type VrrpInstance,
} from "@portico/core";

// Hand-built plans. The keepalived renderer reads only lbNodes, vrrpInstances and settings, so
// services, frontends and backends stay empty here.

const ip = (text: string): Ip => parseIp(text)._unsafeUnwrap();
const node = (name: string, address: string, iface = "eth0"): LbNode => ({
  name: name as LbNodeName,
  address: ip(address),
  interface: iface,
});
const ranks = (...entries: readonly (readonly [string, number])[]): VrrpInstance["priorities"] =>
  entries.map(([lbNode, priority]) => ({ lbNode: lbNode as LbNodeName, priority }));
const instance = (
  id: string,
  vrid: number,
  vips: readonly string[],
  priorities: VrrpInstance["priorities"],
): VrrpInstance => {
  const parsed = vips.map(ip);
  return {
    id: id as Ident,
    vrid: parseVrid(vrid)._unsafeUnwrap(),
    family: ipFamily(parsed[0] ?? ip("0.0.0.0")),
    vips: parsed,
    priorities,
  };
};

/** The config's defaults: Debian paths, 100 ms adverts over the whole VRID range. */
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
  healthCheck: { kubeProxyPort: parsePort(10256)._unsafeUnwrap(), intervalMs: 2000 as Millis, rise: 2, fall: 3 },
};

const plan = (lbNodes: readonly LbNode[], vrrpInstances: readonly VrrpInstance[]): Plan => ({
  services: [],
  frontends: [],
  backends: [],
  vrrpInstances,
  lbNodes,
  diagnostics: [],
  settings,
});

/** No Services yet: two LB nodes, no VRRP instances. */
export const emptyPlan = (): Plan => plan([node("lb1", "198.18.1.1"), node("lb2", "198.18.1.2")], []);

/**
 * Three LB nodes on eth0; three IPv4 VIPs, each in its own instance with a different master, and
 * one IPv6 VIP whose instance ranks only lb2 and lb1 (lb3 is not ranked: it runs at priority 1).
 */
export const typicalPlan = (): Plan =>
  plan(
    [node("lb1", "198.18.1.1"), node("lb2", "198.18.1.2"), node("lb3", "198.18.1.3")],
    [
      instance("vrrp_198_18_100_10_5e0c1a7b", 1, ["198.18.100.10"], ranks(["lb1", 150], ["lb2", 100], ["lb3", 50])),
      instance("vrrp_198_18_100_11_91d2f4c6", 2, ["198.18.100.11"], ranks(["lb2", 150], ["lb3", 100], ["lb1", 50])),
      instance("vrrp_198_18_100_12_0b7e3d58", 3, ["198.18.100.12"], ranks(["lb3", 150], ["lb1", 100], ["lb2", 50])),
      instance("vrrp_2001_db8_100_a_c4a81f02", 4, ["2001:db8:100::a"], ranks(["lb2", 150], ["lb1", 100])),
    ],
  );

/** A single LB node: nobody to advert to. */
export const singleNodePlan = (): Plan =>
  plan(
    [node("lb1", "198.18.1.1")],
    [instance("vrrp_198_18_100_20_7f3e9b21", 10, ["198.18.100.20", "198.18.100.21"], ranks(["lb1", 150]))],
  );

/** LB nodes addressed over IPv6, serving an IPv6 VIP and an IPv4 VIP (the other family), on bond0. */
export const ipv6NodesPlan = (): Plan =>
  plan(
    [node("lb1", "2001:db8:1::1", "bond0"), node("lb2", "2001:db8:1::2", "bond0")],
    [
      instance("vrrp_198_18_100_30_2d6c0e94", 20, ["198.18.100.30"], ranks(["lb1", 150], ["lb2", 100])),
      instance("vrrp_2001_db8_100_1e_83b5a7d0", 21, ["2001:db8:100::1e"], ranks(["lb2", 150], ["lb1", 100])),
    ],
  );

/** The typical plan with the event-driven process tracker (keepalived in the host namespaces) and `nopreempt`. */
export const processNopreemptPlan = (): Plan => ({
  ...typicalPlan(),
  settings: { ...settings, vrrp: { ...settings.vrrp, preempt: false, haproxyCheck: { kind: "process" } } },
});

/** The single-node plan with the stats-socket check (a worker must answer) and a 30 s preemption delay. */
export const statsCheckPlan = (): Plan => {
  const single = singleNodePlan();
  const check = {
    kind: "stats" as const,
    socket: "/run/haproxy/admin.sock",
    program: "/usr/lib/portico/haproxy-check",
    intervalS: 1,
    fall: 2,
    rise: 2,
  };
  return {
    ...single,
    settings: { ...single.settings, vrrp: { ...single.settings.vrrp, haproxyCheck: check, preemptDelayS: 30 } },
  };
};

/** Every golden case: `test/golden/<case>-<node>.conf` for each LB node of the plan. */
export const goldenCases: readonly { readonly name: string; readonly plan: () => Plan }[] = [
  { name: "empty", plan: emptyPlan },
  { name: "typical", plan: typicalPlan },
  { name: "single", plan: singleNodePlan },
  { name: "ipv6-nodes", plan: ipv6NodesPlan },
  { name: "process-nopreempt", plan: processNopreemptPlan },
  { name: "stats-check", plan: statsCheckPlan },
];
