import { join } from "node:path";
import { ingest, plan, planTuning } from "@portico/core";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { renderKeepalived } from "@portico/adapter-keepalived";
import { renderBird } from "@portico/adapter-bird";
import { renderNftables } from "@portico/adapter-nftables";
import { writeFileAtomic } from "@portico/host";
import { EXIT, fail, type Flags } from "../args.js";
import type { Io } from "../io.js";
import { loadNodeInputs } from "../load.js";
import { progress } from "../progress.js";
import { statusReport, summarise } from "../status-report.js";

/** `portico render --cluster <file|dir> [--config <file>] --node <lbNode> --out <dir>` */
export const renderCommand = async (flags: Flags, io: Io): Promise<number> => {
  const clusterPath = flags.required("cluster");
  const node = flags.required("node");
  const out = flags.required("out");
  if (clusterPath === undefined || node === undefined || out === undefined) {
    return fail(io, "render needs --cluster <file|dir>, --node <lbNode> and --out <dir>", EXIT.usage);
  }
  const bar = progress(io);
  bar.step("reading the config and the cluster");
  const inputs = await loadNodeInputs(flags.configPath(io), clusterPath, node);
  bar.done();
  if (inputs.isErr()) return fail(io, inputs.error.message, EXIT.usage);
  const { config, lbNode, documents } = inputs.value;

  const snapshot = ingest(documents);
  bar.step(`planning ${snapshot.services.length} Services`);
  const p = plan(snapshot, config);
  bar.step(`rendering haproxy.cfg (${p.frontends.length} frontends) and keepalived.conf`);
  const haproxy = renderHaproxy(p, {});
  const keepalived = renderKeepalived(p, { node: lbNode.name });
  bar.done();
  if (haproxy.isErr()) return fail(io, `haproxy: ${haproxy.error.message}`, EXIT.usage);
  if (keepalived.isErr()) return fail(io, `keepalived: ${keepalived.error.message}`, EXIT.usage);
  // bird.conf only for a config with a bgp section: every VIP this node announces, enabled.
  const bird = config.bgp === undefined ? undefined : renderBird(p, { node: lbNode.name });
  if (bird?.isErr() === true) return fail(io, `bird: ${bird.error.message}`, EXIT.usage);
  const files: [string, string][] = [
    ["haproxy.cfg", haproxy.value],
    ["keepalived.conf", keepalived.value],
    ["status.json", `${JSON.stringify(statusReport(p, node), null, 2)}\n`],
    // The plan itself, so `portico plan --against <dir>` can show what the next plan changes.
    ["plan.json", `${JSON.stringify(p, null, 2)}\n`],
    ...(bird?.isOk() === true ? [["bird.conf", bird.value] as [string, string]] : []),
  ];
  // nftables.conf only when some port is served by the L4 data plane.
  if ((p.l4Listeners ?? []).length > 0) {
    const nft = renderNftables(p, { node: lbNode.name });
    if (nft.isErr()) return fail(io, `nftables: ${nft.error.message}`, EXIT.usage);
    files.splice(2, 0, ["nftables.conf", nft.value]);
  }
  // tuning.json only when the config declares this node's topology; otherwise `portico tune` reads it on the node.
  const declared = config.tuning.topologies.find((t) => t.node === node);
  if (declared !== undefined) {
    const tuning = planTuning(declared.topology, config.tuning);
    files.push([
      "tuning.json",
      `${JSON.stringify({ apiVersion: "portico.dev/v1alpha1", kind: "TuningPlan", node, topology: declared.topology, ...tuning }, null, 2)}\n`,
    ]);
  }
  for (const [i, [name, text]] of files.entries()) {
    bar.count("writing files", i, files.length);
    const written = await writeFileAtomic(join(out, name), text, { mkdirs: true });
    if (written.isErr()) {
      bar.done();
      return fail(io, `cannot write ${written.error.message}`, EXIT.usage);
    }
  }
  bar.done();
  const s = summarise(p);
  io.stdout(
    `Rendered for LB node ${node}: ${s.services} Services (${s.ready} ready, ${s.partial} partial, ${s.failed} failed), ${s.frontends} frontends, ${s.vrrpInstances} VRRP instances\n`,
  );
  for (const [name] of files) io.stdout(`  wrote ${join(out, name)}\n`);
  return s.failed > 0 ? EXIT.someFailed : EXIT.ok;
};
