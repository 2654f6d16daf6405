// Synthetic clusters for benchmarks: S LoadBalancer Services (2 TCP ports each, half Local) over
// N nodes, with EndpointSlices, all addresses in the benchmarking ranges.
import { aConfig, aNode, aService, anEndpointSlice } from "@portico/core/testing";
import { parseConfig, type Config } from "@portico/core";

const nodeIp = (i: number): string => `198.18.${2 + Math.floor(i / 250)}.${1 + (i % 250)}`;

/** The fields of a cluster object the benchmarks change. */
export interface KubeObject {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec?: { readonly ports: readonly Record<string, unknown>[] };
  readonly endpoints?: readonly unknown[];
}

/** S LoadBalancer Services (2 TCP ports each, half Local) over N nodes, with their EndpointSlices. */
export const cluster = (services: number, nodes: number): KubeObject[] => {
  const objects: Record<string, unknown>[] = [];
  for (let i = 0; i < nodes; i++) objects.push(aNode(`node-${i}`, nodeIp(i)));
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    const local = i % 2 === 0;
    objects.push(
      aService({
        name,
        namespace: `ns-${i % 20}`,
        created: `2026-01-01T${String(Math.floor(i / 3600) % 24).padStart(2, "0")}:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z`,
        policy: local ? "Local" : "Cluster",
        healthCheckNodePort: 32000 + (i % 700),
        ports: [
          { name: "http", port: 80, nodePort: 30000 + ((2 * i) % 2700) },
          { name: "https", port: 443, nodePort: 30001 + ((2 * i) % 2700) },
        ],
      }),
    );
    objects.push(
      anEndpointSlice(
        `ns-${i % 20}`,
        name,
        [0, 1, 2].map((k) => ({
          ip: `198.19.${(i * 3 + k) % 250}.${1 + ((i + k) % 250)}`,
          node: `node-${(i + k) % nodes}`,
        })),
      ),
    );
  }
  return objects as unknown as KubeObject[];
};

/** A config whose pools hold enough addresses for `services`. */
export const config = (services: number): Config =>
  parseConfig(
    aConfig({
      pools: [{ name: "bench", addresses: [`198.18.128.0/${services > 16000 ? 16 : 18}`] }],
      lbNodes: [
        { name: "lb1", address: "198.18.1.1", interface: "eth0" },
        { name: "lb2", address: "198.18.1.2", interface: "eth0" },
        { name: "lb3", address: "198.18.1.3", interface: "eth0" },
      ],
      vrrp: { vridFirst: 1, vridLast: 255 },
    }),
  )._unsafeUnwrap();
