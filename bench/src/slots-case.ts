// Figure 10, slot layout at scale: one Service without nodePorts whose EndpointSlices hold
// <pods> ready pods (podIpsRoutable), rendered against the haproxy.cfg it rendered before with
// one pod replaced, so every server is placed into the installed slots.
// Usage: node slots-case.js <pods> <runs>  -> one JSON line.
import { ingest, parseConfig, plan } from "@portico/core";
import { aConfig, aService, anEndpointSlice, threeNodes } from "@portico/core/testing";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { report } from "./_case.js";

const [pods = 8000, runs = 3] = process.argv.slice(2).map(Number);
const config = parseConfig(aConfig({ podIpsRoutable: true }))._unsafeUnwrap();
const ip = (i: number): string => `198.19.${Math.floor(i / 250)}.${1 + (i % 250)}`;
const cluster = (first: number) => [
  ...threeNodes(),
  aService({ allocateLoadBalancerNodePorts: false, ports: [{ name: "http", port: 80 }] }),
  ...Array.from({ length: Math.ceil(pods / 1000) }, (_, s) =>
    anEndpointSlice(
      "default",
      "web",
      Array.from({ length: Math.min(1000, pods - s * 1000) }, (_, k) => ({
        ip: ip(first + s * 1000 + k),
        node: "worker-1",
      })),
      `s${s}`,
    ),
  ),
];
const before = renderHaproxy(plan(ingest(cluster(0)), config), {})._unsafeUnwrap();
const next = plan(ingest(cluster(1)), config);
const ms: number[] = [];
for (let r = 0; r < runs; r++) {
  const t0 = process.hrtime.bigint();
  renderHaproxy(next, { previous: before })._unsafeUnwrap();
  ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
report({
  figures: [
    { name: `10. render of ${pods} pod servers into the installed slots (one pod replaced)`, values: ms, unit: "ms" },
  ],
});
