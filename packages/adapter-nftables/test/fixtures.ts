import { parseConfig, type Plan } from "@portico/core";
import { aConfig, aNode, anEndpointSlice, aService, planOf } from "@portico/core/testing";

// Plans made by the real planner from Kubernetes-shaped objects, so the renderer is tested on
// what the planner gives; hostile variations are built from them by hand in the tests. The
// Maglev tables are the smallest size, so the goldens stay readable.
const config = parseConfig({ ...aConfig(), nftables: { maglevTableSize: 251 } })._unsafeUnwrap();

const nodes = () => [
  aNode("worker-1", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }),
  aNode("worker-2", "198.18.2.2", { moreIps: ["2001:db8:2::2"] }),
  aNode("worker-3", "198.18.2.3", { moreIps: ["2001:db8:2::3"] }),
];

/** No Services: the ruleset only replaces Portico's (empty) tables. */
export const emptyPlan = (): Plan => planOf(nodes(), config);

/**
 * DNS on one VIP (TCP 53 through HAProxy, UDP 53 through nat), syslog over direct with source
 * ranges, a Local QUIC Service weighted pods-per-node with ClientIP affinity, dual-stack.
 */
export const typicalPlan = (): Plan =>
  planOf(
    [
      ...nodes(),
      aService({
        name: "dns",
        ports: [
          { name: "dns-tcp", port: 53, nodePort: 30053 },
          { name: "dns", port: 53, nodePort: 30054, protocol: "UDP" },
        ],
      }),
      aService({
        name: "syslog",
        created: "2026-01-02T00:00:00Z",
        annotations: { "portico.dev/data-plane": "direct" },
        loadBalancerSourceRanges: ["198.18.50.0/24", "2001:db8:50::/48"],
        ipFamilies: ["IPv4", "IPv6"],
        ipFamilyPolicy: "RequireDualStack",
        ports: [{ port: 514, nodePort: 30514, protocol: "UDP" }],
      }),
      aService({
        name: "quic",
        created: "2026-01-03T00:00:00Z",
        policy: "Local",
        healthCheckNodePort: 32443,
        sessionAffinity: "ClientIP",
        annotations: { "portico.dev/weighting": "pods-per-node" },
        ports: [{ port: 443, nodePort: 30443, protocol: "UDP" }],
      }),
      anEndpointSlice("default", "quic", [
        { ip: "198.19.0.1", node: "worker-1" },
        { ip: "198.19.0.2", node: "worker-1" },
        { ip: "198.19.0.3", node: "worker-3" },
      ]),
    ],
    config,
  );

/** SCTP through nat (planned, rendered and checked; no SCTP traffic on these machines). */
export const sctpPlan = (): Plan =>
  planOf([...nodes(), aService({ name: "ngap", ports: [{ port: 38412, nodePort: 30412, protocol: "SCTP" }] })], config);

/**
 * Flow pins of every kind through direct: TCP dual-stack (pins that end at FIN or RST), TCP with
 * ClientIP affinity (pinned by source address for the affinity's timeout), UDP and SCTP.
 */
export const pinnedPlan = (): Plan =>
  planOf(
    [
      ...nodes(),
      aService({
        name: "web",
        annotations: { "portico.dev/data-plane": "direct" },
        ipFamilies: ["IPv4", "IPv6"],
        ipFamilyPolicy: "RequireDualStack",
        ports: [{ port: 443, nodePort: 30443 }],
      }),
      aService({
        name: "sticky",
        created: "2026-01-02T00:00:00Z",
        annotations: { "portico.dev/data-plane": "direct" },
        sessionAffinity: "ClientIP",
        ports: [{ port: 8443, nodePort: 30843 }],
      }),
      aService({
        name: "ngap",
        created: "2026-01-03T00:00:00Z",
        annotations: { "portico.dev/data-plane": "direct" },
        ports: [
          { name: "ngap", port: 38412, nodePort: 30412, protocol: "SCTP" },
          { name: "gtp", port: 2152, nodePort: 30152, protocol: "UDP" },
        ],
      }),
    ],
    config,
  );

/** The golden cases: name and plan. */
export const goldenCases: readonly { readonly name: string; readonly plan: () => Plan }[] = [
  { name: "empty", plan: emptyPlan },
  { name: "typical", plan: typicalPlan },
  { name: "sctp", plan: sctpPlan },
  { name: "pinned", plan: pinnedPlan },
];
