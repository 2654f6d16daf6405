import { ingest, plan } from "@portico/core";
import { match } from "ts-pattern";
import { EXIT, fail, type Flags } from "../args.js";
import type { Io } from "../io.js";
import { loadNodeInputs } from "../load.js";
import { applyOnNode, installedVrrpState } from "../node-apply.js";
import { progress } from "../progress.js";
import { summarise } from "../status-report.js";

/** `portico apply --cluster <file|dir> --config <file> --node <lbNode>` */
export const applyCommand = async (flags: Flags, io: Io): Promise<number> => {
  const clusterPath = flags.required("cluster");
  const node = flags.required("node");
  if (clusterPath === undefined || node === undefined) {
    return fail(io, "apply needs --cluster <file|dir> and --node <lbNode>", EXIT.usage);
  }
  const bar = progress(io);
  bar.step("reading the config and the cluster");
  const inputs = await loadNodeInputs(flags.configPath(io), clusterPath, node);
  bar.done();
  if (inputs.isErr()) return fail(io, inputs.error.message, EXIT.usage);
  const { config, lbNode, documents } = inputs.value;

  // VRIDs and masters stay where they run: plan from the installed keepalived.conf's state.
  const snapshot = ingest(documents);
  bar.step(`planning ${snapshot.services.length} Services`);
  const p = plan(snapshot, config, await installedVrrpState(config));
  bar.step(
    `applying: haproxy -c on the new haproxy.cfg, then runtime API or reload${config.keepalived.apply === false ? "" : ", then keepalived"}`,
  );
  const outcome = await applyOnNode(p, config, lbNode.name);
  bar.done();
  if ("error" in outcome.haproxy) {
    const e = outcome.haproxy.error;
    return fail(io, `haproxy: ${e.message}${e.hint === undefined ? "" : `\nhint: ${e.hint}`}`, EXIT.applyFailed);
  }
  const r = outcome.haproxy.ok;
  const s = summarise(p);
  io.stdout(
    `Applied on LB node ${node}: ${s.services} Services (${s.ready} ready, ${s.partial} partial, ${s.failed} failed), ${s.frontends} frontends\n`,
  );
  io.stdout(
    match(r.action)
      .with(
        "unchanged",
        () => `  haproxy: ${r.configPath} already up to date (generation ${r.generation}); nothing sent\n`,
      )
      .with(
        "runtime",
        () =>
          `  haproxy: ${r.runtimeOps} runtime API commands, no reload; wrote ${r.configPath} (generation ${r.generation}) in ${r.durationMs} ms\n`,
      )
      .with(
        "reload",
        () =>
          `  haproxy: wrote ${r.configPath} and reloaded; worker ${r.worker ?? "?"} runs generation ${r.generation} (${r.durationMs} ms)\n`,
      )
      .with(
        "written",
        () =>
          `  haproxy: wrote ${r.configPath} (generation ${r.generation}); no master CLI at ${p.settings.haproxy.masterSocket}, so nothing was reloaded: haproxy reads it when it starts\n`,
      )
      // Only a paced caller (`portico run`) is told to wait; `portico apply` reloads at once.
      .with(
        "deferred",
        () => `  haproxy: a reload is due in ${r.retryInMs ?? 0} ms (the last one was too recent); nothing changed\n`,
      )
      .exhaustive(),
  );
  if (r.note !== undefined) io.stdout(`  note: ${r.note}\n`);
  if (outcome.nftables !== undefined) {
    if ("error" in outcome.nftables) {
      const e = outcome.nftables.error;
      return fail(io, `nftables: ${e.message}${e.hint === undefined ? "" : `\nhint: ${e.hint}`}`, EXIT.applyFailed);
    }
    const path = config.nftables?.configPath ?? "nftables.conf";
    io.stdout(
      `  nftables: ${outcome.nftables.ok === "unchanged" ? `${path} already loaded` : `wrote ${path} and loaded it (nft -f)`}\n`,
    );
  }
  if (outcome.keepalived !== undefined) {
    if ("error" in outcome.keepalived) {
      const e = outcome.keepalived.error;
      return fail(io, `keepalived: ${e.message}${e.hint === undefined ? "" : `\nhint: ${e.hint}`}`, EXIT.applyFailed);
    }
    io.stdout(
      `  keepalived: ${outcome.keepalived.ok === "unchanged" ? `${p.settings.keepalived.configPath} already up to date` : `wrote ${p.settings.keepalived.configPath} and ${outcome.keepalived.ok === "started" ? "started keepalived" : "reloaded keepalived (SIGHUP)"}`}\n`,
    );
  }
  if (outcome.bird !== undefined) {
    if ("error" in outcome.bird) {
      const e = outcome.bird.error;
      return fail(io, `bird: ${e.message}${e.hint === undefined ? "" : `\nhint: ${e.hint}`}`, EXIT.applyFailed);
    }
    const path = config.bgp?.configPath ?? "bird.conf";
    io.stdout(
      `  bird: ${outcome.bird.ok === "unchanged" ? `${path} already up to date` : `wrote ${path} and ${outcome.bird.ok === "started" ? "started bird" : "reconfigured bird (birdc configure)"}`}\n`,
    );
  }
  return s.failed > 0 ? EXIT.someFailed : EXIT.ok;
};
