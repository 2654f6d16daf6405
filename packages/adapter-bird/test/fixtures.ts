import { parseConfig, type Config, type Plan } from "@portico/core";
import { aConfig, aService, planOf, threeNodes } from "@portico/core/testing";

// Plans from the real planner: a config with a BGP pool beside a VRRP one, three Services.

const LB_NODES = [
  { name: "lb1", address: "198.18.1.1", interface: "eth0" },
  { name: "lb2", address: "198.18.1.2", interface: "eth0" },
  { name: "lb3", address: "198.18.1.3", interface: "eth0" },
];

/** A parsed config with `bgp` (the example and more) and the given overrides of the section. */
export const bgpConfig = (bgp: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Config =>
  parseConfig({
    ...aConfig({ lbNodes: LB_NODES }),
    pools: [
      { name: "edge", addresses: ["198.18.100.10-198.18.100.50", "2001:db8:100::/120"], announce: "bgp" },
      { name: "l2", addresses: ["198.18.101.10-198.18.101.50"] },
    ],
    bgp: { asn: 64512, peers: [{ address: "198.18.1.254", asn: 64500 }], ...bgp },
    ...extra,
  })._unsafeUnwrap();

const services = [
  ...threeNodes(),
  aService({ name: "web", ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" }),
  aService({ name: "api" }),
  aService({ name: "intranet", annotations: { "portico.dev/pool": "l2" } }),
];

/** The example: one eBGP peer, BFD 100 ms x 3. */
export const typicalPlan = (): Plan => planOf(services, bgpConfig());

/** Two routers, one iBGP multihop with a password file, communities and local preference; IPv6 peer too. */
export const richPlan = (): Plan =>
  planOf(
    services,
    bgpConfig({
      communities: ["64512:100", "64512:1:7"],
      bfd: { intervalMs: 50 },
      peers: [
        { address: "198.18.1.254", asn: 64500 },
        {
          address: "198.18.2.254",
          asn: 64512,
          multihop: 2,
          passwordFile: "/etc/portico/rr.bird",
          localPreference: 200,
          bfd: { enabled: false },
          holdTimeS: 30,
          keepaliveS: 10,
        },
        { address: "2001:db8:1::fe", asn: 64500, communities: ["64500:6"] },
      ],
    }),
  );

/** lb2 drained with `drain: prepend`: it keeps announcing, prepended and with the graceful-shutdown community. */
export const drainingPlan = (): Plan => {
  const c = bgpConfig({ drain: "prepend" });
  return planOf(services, { ...c, lbNodes: c.lbNodes.map((n) => (n.name === "lb2" ? { ...n, drain: true } : n)) });
};

/** No Services: sessions only. */
export const emptyPlan = (): Plan => planOf([], bgpConfig());

/** No bgp section at all (a VRRP-only config): bird.conf with no sessions. */
export const noBgpPlan = (): Plan => planOf(services, parseConfig(aConfig({ lbNodes: LB_NODES }))._unsafeUnwrap());

/** The golden cases: plan and name. */
export const goldenCases: readonly { readonly name: string; readonly plan: () => Plan }[] = [
  { name: "typical", plan: typicalPlan },
  { name: "rich", plan: richPlan },
  { name: "draining", plan: drainingPlan },
  { name: "empty", plan: emptyPlan },
  { name: "no-bgp", plan: noBgpPlan },
];
