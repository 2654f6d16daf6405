import { KubeConfig } from "@kubernetes/client-node";
import { HaproxyRenderer, parseShowProc, sendCommand } from "@portico/adapter-haproxy";
import { KeepalivedRenderer } from "@portico/adapter-keepalived";
import type { Config, LbNodeName, Plan } from "@portico/core";
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import { EXIT, fail, type Flags } from "../args.js";
import { Controller, type NodeApplyResult } from "../controller.js";
import type { Io } from "../io.js";
import { findLbNode, loadConfig } from "../load.js";
import { applyOnNode, installablePlan, installedVrrpState } from "../node-apply.js";
import { startBgpRuntime, type BgpRuntime } from "../bgp-runtime.js";
import { registerBgpMetrics, type BgpMetrics } from "../bgp-metrics.js";
import { L4Health } from "../l4-health.js";
import { registerL4Metrics, type L4Metrics } from "../l4-metrics.js";

/**
 * Structured JSON logs; readable lines on a terminal. pino-pretty runs as a stream in this thread,
 * not as a transport: a transport is a worker thread loaded from a file, which the single-file
 * build does not have.
 */
const makeLogger = (io: Io): Logger =>
  io.color === true
    ? pino({ base: null }, pretty({ colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" }))
    : pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime });

/** What a daemon's apply did, in the controller's terms: `changed` unless it failed or left things as they were. */
const changeOf = <K extends string>(
  r: { readonly ok: string } | { readonly error: unknown } | undefined,
  changed: K,
): K | "none" | "error" =>
  r === undefined ? "none" : "error" in r ? "error" : r.ok === "unchanged" ? "none" : changed;

/**
 * Apply on this node and say what happened in the controller's terms; `reloadL4` makes the next
 * apply load the L4 ruleset even if its file is unchanged (the kernel lost the tables).
 */
const applier = (config: Config, node: LbNodeName, bgp?: BgpRuntime, health?: L4Health) => {
  // One render cache for the life of the controller: each plan re-renders only what changed.
  const renderer = new HaproxyRenderer();
  const keepalivedRenderer = new KeepalivedRenderer();
  // The first L4 load of this process is forced: the kernel may have lost the tables since the file was written.
  let l4Loaded = false;
  const reloadL4 = (): void => {
    l4Loaded = false;
  };
  const apply = async (plan: Plan): Promise<NodeApplyResult> => {
    // BIRD's file carries what the announcer announces now; the announcer then judges the new plan.
    // Reloads are paced: each one starts the hard-stop countdown of every open connection.
    // The L4 tables are rendered with HAProxy's current verdicts, so a new plan puts no failing node back.
    const checkDown = health?.down();
    const r = await applyOnNode(plan, config, node, {
      renderer,
      keepalivedRenderer,
      announce: bgp?.announcer.announced() ?? [],
      l4: { force: !l4Loaded, ...(checkDown === undefined ? {} : { checkDown }) },
      minReloadIntervalMs: config.haproxy.reloadIntervalMs ?? 0,
    });
    if (r.nftables !== undefined && "ok" in r.nftables) l4Loaded = true;
    if (r.nftables !== undefined && "ok" in r.nftables)
      health?.setPlan(plan, r.nftables.ok === "loaded" ? (checkDown ?? new Map()) : undefined);
    bgp?.setPlan(plan);
    const errors = [
      ...("error" in r.haproxy ? [`haproxy: ${r.haproxy.error.message}`] : []),
      ...(r.nftables !== undefined && "error" in r.nftables ? [`nftables: ${r.nftables.error.message}`] : []),
      ...(r.keepalived !== undefined && "error" in r.keepalived ? [`keepalived: ${r.keepalived.error.message}`] : []),
      ...(r.bird !== undefined && "error" in r.bird ? [`bird: ${r.bird.error.message}`] : []),
    ];
    const haproxy =
      "error" in r.haproxy
        ? "error"
        : r.haproxy.ok.action === "runtime"
          ? "runtime"
          : r.haproxy.ok.action === "reload"
            ? "reload"
            : r.haproxy.ok.action === "deferred"
              ? "deferred"
              : "none";
    const keepalived = changeOf(r.keepalived, "reload");
    const nftables = changeOf(r.nftables, "load");
    const retryInMs = "ok" in r.haproxy ? r.haproxy.ok.retryInMs : undefined;
    return { haproxy, keepalived, nftables, errors, ...(retryInMs === undefined ? {} : { retryInMs }) };
  };
  return { apply, reloadL4 };
};

/** Whether the haproxy master on `socket` runs a worker. */
const haproxyServing = (socket: string) => async (): Promise<boolean> => {
  const answer = await sendCommand(socket, { kind: "show-proc" }, { timeoutMs: 2_000 });
  return answer.isOk() && (parseShowProc(answer.value)?.workers.length ?? 0) > 0;
};

/** `portico run --config <file> --node <lbNode> [--kubeconfig <file>]`: the controller; runs until SIGTERM or SIGINT. */
export const runCommand = async (flags: Flags, io: Io): Promise<number> => {
  const node = flags.required("node");
  if (node === undefined) return fail(io, "run needs --node <lbNode>", EXIT.usage);
  const config = await loadConfig(flags.configPath(io));
  if (config.isErr()) return fail(io, config.error.message, EXIT.usage);
  const lbNode = findLbNode(config.value, node);
  if (lbNode.isErr()) return fail(io, lbNode.error.message, EXIT.usage);
  const kc = new KubeConfig();
  const kubeconfig = flags.required("kubeconfig");
  try {
    // Without --kubeconfig: $KUBECONFIG, ~/.kube/config, or the in-cluster service account.
    if (kubeconfig === undefined) kc.loadFromDefault();
    else kc.loadFromFile(kubeconfig);
  } catch (e) {
    return fail(
      io,
      `cannot load the kubeconfig${kubeconfig === undefined ? "" : ` ${kubeconfig}`}: ${(e as Error).message.split("\n")[0] ?? ""}`,
      EXIT.usage,
    );
  }
  if (kc.getCurrentCluster() === null) return fail(io, "no cluster in the kubeconfig (pass --kubeconfig)", EXIT.usage);

  const logger = makeLogger(io);
  // BGP: announce what this node can serve, withdraw what it cannot (absent without a bgp section).
  let metrics: BgpMetrics | undefined;
  const bgp = await startBgpRuntime(config.value, lbNode.value.name, (e) => {
    if (e.error === undefined) metrics?.changed(e.announced);
    if (e.error === undefined) logger.info({ vip: e.vip }, e.announced ? "announced" : "withdrawn");
    else logger.warn({ vip: e.vip, error: e.error }, e.announced ? "cannot announce" : "cannot withdraw");
  });
  // L4 tables: HAProxy's check verdicts move nodes in and out (absent without nftables.apply).
  let l4Metrics: L4Metrics | undefined;
  const health =
    config.value.nftables?.apply === true
      ? new L4Health(lbNode.value.name, config.value.haproxy.statsSocket, {
          log: (e) => {
            l4Metrics?.moved(e);
            const down = Object.fromEntries([...e.down].map(([id, nodes]) => [id, [...nodes]]));
            if (e.error === undefined)
              logger.info({ down, tookMs: Math.round(e.tookMs) }, "L4 tables follow the checks");
            else logger.warn({ down, error: e.error }, "cannot move nodes in the L4 tables");
          },
          // Tables deleted by another program (a firewall's `flush ruleset`): the whole ruleset
          // again. Told only after a plan was loaded, so the controller below exists by then.
          onLost: (families) => {
            logger.warn(
              { tables: families.map((f) => `${f} portico`) },
              "L4 tables gone from the kernel; loading the ruleset again",
            );
            l4Metrics?.lost();
            local.reloadL4();
            controller.reapply();
          },
        })
      : undefined;
  health?.start();
  // An L4 VIP whose tables the health loop empties is withdrawn as soon as the loop has loaded them.
  if (health !== undefined) bgp?.followL4(health);
  const local = applier(config.value, lbNode.value.name, bgp, health);
  const controller = new Controller({
    kubeConfig: kc,
    config: config.value,
    node: lbNode.value.name,
    apply: local.apply,
    logger,
    initialVrrp: await installedVrrpState(config.value),
    serving: haproxyServing(config.value.haproxy.masterSocket),
    prepare: installablePlan,
  });
  if (bgp !== undefined && config.value.bgp !== undefined)
    metrics = registerBgpMetrics(controller.registry, bgp, config.value.bgp.socket);
  if (health !== undefined) l4Metrics = registerL4Metrics(controller.registry, { down: () => health.down() });
  const { address, port } = config.value.controller.listen;
  try {
    await controller.start();
  } catch (e) {
    return fail(io, `cannot start: ${(e as Error).message} (controller.listen ${address}:${port})`, EXIT.usage);
  }
  logger.info(
    { node, metrics: `http://${address.includes(":") ? `[${address}]` : address}:${port}/metrics` },
    "portico run started",
  );
  // Stop on SIGTERM/SIGINT without touching HAProxy or keepalived: traffic keeps flowing.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  logger.info({ signal }, "stopping; HAProxy and keepalived keep running as they are");
  // A node that stops takes no new flows: its BGP VIPs are withdrawn first (BIRD keeps its sessions).
  await bgp?.leave();
  await health?.stop();
  await controller.stop();
  return EXIT.ok;
};
