// Using @portico/core in your own controller: build a snapshot from Kubernetes-shaped objects,
// plan, read the plan, then plan again after a change and ask what it would take to apply it.
//
//   npm run build && node examples/embed/plan.mjs
//
// The core is pure (no I/O, no clock), so everything below is plain data in, plain data out.
// A real controller gets the objects from its informers (or from @portico/adapter-kubernetes'
// ClusterWatch) instead of the literals here. examples/embed/embed.test.ts runs this file under
// `npm test` and checks what it prints.
import { pathToFileURL } from "node:url";
import { diffPlans, formatConfigIssues, ingest, parseConfig, plan, vrrpStateOf } from "@portico/core";

/** The config, as `portico.yaml` would hold it once decoded (any YAML or JSON parser will do). */
export const CONFIG = {
  apiVersion: "portico.dev/v1alpha1",
  kind: "PorticoConfig",
  pools: [{ name: "default", addresses: ["198.18.100.10-198.18.100.50"] }],
  lbNodes: [
    { name: "lb1", address: "198.18.1.1", interface: "eth0" },
    { name: "lb2", address: "198.18.1.2", interface: "eth0" },
  ],
};

const node = (name, ip) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name },
  status: { addresses: [{ type: "InternalIP", address: ip }] },
});

const service = (namespace, name, created, spec, annotations = {}) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    namespace,
    name,
    uid: `uid-${namespace}-${name}`,
    generation: 1,
    creationTimestamp: created,
    annotations,
  },
  spec: { type: "LoadBalancer", ipFamilies: ["IPv4"], ...spec },
  status: { loadBalancer: {} },
});

// The pods of shop/web run on these nodes; the EndpointSlice says which.
const webEndpoints = (nodes) => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { namespace: "shop", name: "web-x7k2p", labels: { "kubernetes.io/service-name": "web" } },
  addressType: "IPv4",
  endpoints: nodes.map((n, i) => ({
    addresses: [`10.244.${i + 1}.5`],
    nodeName: n,
    conditions: { ready: true, serving: true, terminating: false },
  })),
  ports: [{ name: "http", port: 8080, protocol: "TCP" }],
});

/**
 * The cluster: three nodes, a Local-policy Service with PROXY protocol, a Cluster-policy Service,
 * and one with a bad annotation (planned with the default, and a warning says why).
 */
export const objects = (webNodes = ["worker-1", "worker-2"]) => [
  node("worker-1", "198.18.2.1"),
  node("worker-2", "198.18.2.2"),
  node("worker-3", "198.18.2.3"),
  service(
    "shop",
    "web",
    "2026-01-10T09:00:00Z",
    {
      externalTrafficPolicy: "Local",
      healthCheckNodePort: 32000,
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080, nodePort: 30080 }],
    },
    { "portico.dev/proxy-protocol": "v2" },
  ),
  webEndpoints(webNodes),
  service("shop", "api", "2026-01-11T09:00:00Z", {
    externalTrafficPolicy: "Cluster",
    ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 8443, nodePort: 30443 }],
  }),
  service(
    "shop",
    "legacy",
    "2026-01-12T09:00:00Z",
    {
      externalTrafficPolicy: "Cluster",
      ports: [{ name: "tcp", port: 5432, protocol: "TCP", targetPort: 5432, nodePort: 30432 }],
    },
    { "portico.dev/balance": "fastest" },
  ),
];

/** Plan, change the cluster, plan again from the first plan's VRRP state, and describe both. */
export const run = () => {
  // A config that does not parse is a list of issues, each naming the field; never a throw.
  const parsed = parseConfig(CONFIG);
  if (parsed.isErr()) throw new Error(`invalid config:\n${formatConfigIssues(parsed.error)}`);
  const config = parsed.value;

  // ingest never throws either: a malformed object becomes a diagnostic in the snapshot.
  const first = plan(ingest(objects()), config);

  // shop/web's pod on worker-2 moves to worker-3. Passing the first plan's VRRP state keeps every
  // VRID and master where it runs, as a long-running controller must.
  const second = plan(ingest(objects(["worker-1", "worker-3"])), config, vrrpStateOf(first));
  const diff = diffPlans(first, second);

  const lines = [
    ...describe(first),
    "",
    "after shop/web's pod moves from worker-2 to worker-3:",
    ...describeDiff(diff),
  ];
  return { config, first, second, diff, lines };
};

const describe = (p) => {
  const lines = [
    `plan: ${p.services.length} Services, ${p.frontends.length} frontends, ${p.vrrpInstances.length} VRRP instances`,
  ];
  for (const s of p.services) {
    lines.push(`${s.key} ${s.state} VIP ${s.vips.join(", ") || "none"} ipMode ${s.ipMode}`);
    for (const f of p.frontends.filter((x) => x.service === s.key)) {
      const b = p.backends.find((x) => x.id === f.backend);
      // A tracked check is one of the plan's check backends: kube-proxy's, or the Service's own.
      const tracked = b.healthCheck.kind === "track" ? p.checks.find((c) => c.id === b.healthCheck.backend) : undefined;
      const hc = tracked?.healthCheck.source === "healthCheckNodePort" ? tracked.healthCheck : b.healthCheck;
      const check =
        hc.kind === "http"
          ? `GET ${hc.path} on :${hc.port} (${hc.source})`
          : hc.kind === "track"
            ? "kube-proxy's health port, one shared check per node"
            : "TCP connect";
      const servers = b.servers.map((x) => `${x.node}=${x.address}:${x.port}`).join(" ");
      lines.push(`  ${f.vip}:${f.port} -> ${servers}; check ${check}; PROXY ${b.proxyProtocol}`);
    }
    const vrrp = p.vrrpInstances.find((i) => s.vips.some((v) => i.vips.includes(v)));
    if (vrrp !== undefined) lines.push(`  VRRP vrid ${vrrp.vrid}, master ${vrrp.priorities[0].lbNode}`);
    for (const d of s.diagnostics) lines.push(`  ${d.severity}: ${d.message}`);
  }
  return lines;
};

const describeDiff = (d) => {
  const lines = d.services.map((s) => {
    const servers = s.servers.map((x) => `${x.node} ${x.change}`).join(", ");
    return `  ${s.key}: ${servers || "no server changes"} (by ${s.paths.join(" and ") || "nothing"})`;
  });
  lines.push(
    `  HAProxy reload needed: ${d.reload ? "yes" : "no"}; runtime API changes: ${d.runtimeOps}; VRRP instances changed: ${d.vrrp.length}`,
  );
  return lines;
};

// Run as a program: print what the plan says.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${run().lines.join("\n")}\n`);
}
