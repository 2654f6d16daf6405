import { createServer, type Server } from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import {
  ClusterWatch,
  LeaderElector,
  publishStatus,
  reconcileStatus,
  SnapshotSource,
  type ServiceObject,
} from "@portico/adapter-kubernetes";
import {
  NO_VRRP_STATE,
  planIncremental,
  vrrpStateOf,
  type ClusterSnapshot,
  type Config,
  type LbNodeName,
  type Plan,
  type PlanCache,
  type VrrpState,
} from "@portico/core";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { ApplyRetry } from "./_applyRetry.js";
import { controllerMetrics } from "./_controllerMetrics.js";
import { Installed, type ServingProbe } from "./installed.js";

/** What applying a plan on this LB node did. */
export interface NodeApplyResult {
  /** `deferred`: a reload waits for the minimum interval between reloads; see `retryInMs`. */
  readonly haproxy: "none" | "runtime" | "reload" | "deferred" | "error";
  readonly keepalived: "none" | "reload" | "error";
  /** The L4 ruleset (absent: no L4 data plane here). */
  readonly nftables?: "none" | "load" | "error";
  /** One line per error, naming what failed. */
  readonly errors: readonly string[];
  /** Apply the latest snapshot again after this long (a deferred reload). */
  readonly retryInMs?: number;
}

/** Applies a plan to this LB node's HAProxy and keepalived. */
export type ApplyPlan = (plan: Plan) => Promise<NodeApplyResult>;

/** What the controller needs; everything with side effects comes in from outside. */
export interface ControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly config: Config;
  readonly node: LbNodeName;
  readonly apply: ApplyPlan;
  readonly logger: Logger;
  /** Defaults to a fresh registry. */
  readonly registry?: Registry;
  /** Retry a status publish that had failures after this long; default 1 s. */
  readonly statusRetryMs?: number;
  /** The VRRP state running before the first plan (read from the installed keepalived.conf). */
  readonly initialVrrp?: VrrpState;
  /** Whether a HAProxy worker runs on this node; default: always. Status and readiness wait for it. */
  readonly serving?: ServingProbe;
  /** The plan narrowed to what this node can install (ports another program holds left out); default: as planned. */
  readonly prepare?: (plan: Plan) => Promise<Plan>;
}

/**
 * The `portico run` loop: informers -> snapshot -> plan -> apply on this node -> status (leader
 * only). Plans run one at a time; a snapshot that arrives meanwhile is planned right after. When
 * the API server is unreachable the last applied configs stay as they are (no snapshot is made
 * from a failed list) and readiness says so. Stopping never touches HAProxy or keepalived.
 */
export class Controller {
  readonly #o: ControllerOptions;
  readonly #watch: ClusterWatch;
  readonly #source: SnapshotSource;
  readonly #elector: LeaderElector;
  readonly #metrics: ReturnType<typeof controllerMetrics>;
  readonly registry: Registry;
  #pending: ClusterSnapshot | undefined;
  #running = false;
  #lastPlan: Plan | undefined;
  // What the last plan computed, so the next one re-plans only the Services whose inputs changed.
  #planCache: PlanCache | undefined;
  #lastApply: NodeApplyResult | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** The last snapshot planned, and the timer that applies it again once a deferred reload may run. */
  #lastSnapshot: ClusterSnapshot | undefined;
  #reapply: NodeJS.Timeout | undefined;
  #server: Server | undefined;
  #stopped = false;
  /** The publish pass under way: passes never overlap (two would compute the same writes). */
  #publishing: Promise<void> | undefined;
  #publishAgain = false;
  /** When the API server became unreachable and the watch's restart count then, while it is. */
  #outage: { readonly since: number; readonly restarts: number } | undefined;
  /** What this node's HAProxy has installed: status says only that. */
  readonly #installed: Installed;
  #servingCheck: NodeJS.Timeout | undefined;
  readonly #applyRetry = new ApplyRetry();

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.registry = options.registry ?? new Registry();
    this.#metrics = controllerMetrics(this.registry);
    this.#installed = new Installed(options.serving ?? (() => Promise.resolve(true)));
    const log = options.logger;
    this.#watch = new ClusterWatch(options.kubeConfig, {
      onChange: () => this.#source.changed(),
      onDropped: (what) =>
        log.warn({ dropped: what }, "the API server sent what cannot be cached; restarting that watch"),
      // The watch reports health as it changes: one line as an outage starts, one as it ends.
      onHealth: (h) => {
        this.#metrics.apiConnected.set(h.connected ? 1 : 0);
        if (!h.connected) {
          this.#outage ??= { since: Date.now(), restarts: h.restarts };
          log.warn({ error: h.lastError }, "API server unreachable; keeping the last applied configuration");
        } else if (this.#outage !== undefined) {
          const { since, restarts } = this.#outage;
          log.info({ outageMs: Date.now() - since, attempts: h.restarts - restarts }, "API server reachable again");
          this.#outage = undefined;
        }
      },
    });
    this.#source = new SnapshotSource(this.#watch, options.config.controller.coalesce, (s) => this.#enqueue(s));
    const lease = options.config.controller.lease;
    this.#elector = new LeaderElector(
      options.kubeConfig,
      {
        namespace: lease.namespace,
        name: lease.name,
        identity: options.node,
        leaseDurationMs: lease.durationMs,
        renewDeadlineMs: lease.renewDeadlineMs,
        retryPeriodMs: lease.retryPeriodMs,
      },
      {
        onStartedLeading: () => {
          this.#metrics.leader.set(1);
          log.info({ lease: `${lease.namespace}/${lease.name}` }, "became the status writer");
          void this.#publish();
        },
        onStoppedLeading: () => {
          this.#metrics.leader.set(0);
          log.info("stopped writing status");
        },
        onError: (message) => log.warn({ error: message }, "leader election"),
      },
    );
  }

  /** Start serving /metrics, /healthz and /readyz, watching, and electing. */
  async start(): Promise<void> {
    this.#server = await this.#listen();
    this.#elector.start();
    await this.#watch.start();
    this.#o.logger.info({ node: this.#o.node }, "cluster watch synced");
  }

  /** Stop watching and release the lease; HAProxy and keepalived keep running as they are. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearTimeout(this.#servingCheck);
    this.#applyRetry.cancel();
    clearTimeout(this.#reapply);
    this.#source.stop();
    await this.#watch.stop();
    await this.#elector.stop();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  /**
   * Ready: synced, connected, HAProxy running, the last apply succeeded and what is installed is
   * the plan. The reason when not.
   */
  readiness(): { ready: boolean; reason: string } {
    const h = this.#watch.health();
    if (!h.synced) return { ready: false, reason: "initial lists have not completed" };
    if (!h.connected) return { ready: false, reason: `API server unreachable: ${h.lastError ?? "unknown"}` };
    if (this.#lastPlan === undefined) return { ready: false, reason: "no plan yet" };
    if (this.#lastApply !== undefined && this.#lastApply.errors.length > 0)
      return { ready: false, reason: `last apply failed: ${this.#lastApply.errors.join("; ")}` };
    if (!this.#installed.running) return { ready: false, reason: "no haproxy worker runs on this node" };
    const behind = this.#installed.view(this.#lastPlan).behind;
    if (behind > 0)
      return { ready: false, reason: `the installed configuration is behind the plan: ${behind} Services` };
    return { ready: true, reason: "ok" };
  }

  /**
   * Apply the newest cluster snapshot again, as if it had just come (the kernel lost the L4 tables,
   * which only a full load puts back): one more cycle after any under way, unless a snapshot is
   * queued already (its cycle comes anyway).
   */
  reapply(): void {
    if (this.#stopped || this.#lastSnapshot === undefined || this.#pending !== undefined) return;
    this.#enqueue(this.#lastSnapshot);
  }

  /** The last plan applied on this node. */
  get lastPlan(): Plan | undefined {
    return this.#lastPlan;
  }

  /** Whether this node writes status now. */
  isLeader(): boolean {
    return this.#elector.isLeader();
  }

  #enqueue(snapshot: ClusterSnapshot): void {
    this.#applyRetry.cancel();
    this.#pending = snapshot;
    if (!this.#running) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#pending !== undefined && !this.#stopped) {
        const snapshot = this.#pending;
        this.#pending = undefined;
        await this.#cycle(snapshot);
      }
    } finally {
      this.#running = false;
    }
  }

  async #cycle(snapshot: ClusterSnapshot): Promise<void> {
    const log = this.#o.logger;
    // The newest snapshot taken, from its cycle's start: what a reapply or a deferred reload queues.
    this.#lastSnapshot = snapshot;
    const endPlan = this.#metrics.planDuration.startTimer();
    // VRIDs and masters stay where they run: each plan starts from the last one's VRRP state.
    const running = this.#lastPlan === undefined ? (this.#o.initialVrrp ?? NO_VRRP_STATE) : vrrpStateOf(this.#lastPlan);
    const { plan: planned, cache } = planIncremental(snapshot, this.#o.config, running, this.#planCache);
    this.#planCache = cache;
    let p = this.#o.prepare === undefined ? planned : await this.#o.prepare(planned);
    endPlan();
    this.#metrics.plans.inc();
    let result = await this.#o.apply(p);
    // A port taken between the look and the reload fails the reload, which is rolled back: look
    // again and, when fewer frontends can be installed now, apply those in this same cycle, so one
    // Service's port never holds back every other Service's change.
    if (result.haproxy === "error" && this.#o.prepare !== undefined) {
      const again = await this.#o.prepare(planned);
      if (frontendIds(again) !== frontendIds(p)) {
        log.warn({ errors: result.errors }, "apply failed; applying again without the ports found taken");
        p = again;
        result = await this.#o.apply(p);
      }
    }
    for (const state of ["ready", "partial", "failed"] as const)
      this.#metrics.services.set({ state }, p.services.filter((s) => s.state === state).length);
    this.#lastApply = result;
    this.#lastPlan = p;
    // A deferred reload installed nothing yet: what runs is still the last apply's.
    if (result.retryInMs === undefined) this.#installed.record(p, result.haproxy !== "error", result.errors);
    await this.#checkServing();
    // Tried again on its snapshot, unless a newer one, queued or being planned, supersedes it; so
    // is a plan that left ports out as taken, so they are served once the other program lets go.
    const leftOut = p.frontends.length < planned.frontends.length;
    this.#applyRetry.after(result.errors.length > 0 || leftOut, () => {
      if (!this.#stopped && this.#pending === undefined && !this.#running) this.#enqueue(snapshot);
    });
    // Changes that need a reload while the last one is recent wait for it together: every
    // snapshot meanwhile replaces the pending one, and the latest is applied when the time comes.
    if (result.retryInMs !== undefined && this.#reapply === undefined) {
      log.info({ retryInMs: result.retryInMs }, "HAProxy reload deferred: the last one was too recent");
      this.#reapply = setTimeout(() => {
        this.#reapply = undefined;
        if (this.#pending === undefined && this.#lastSnapshot !== undefined) this.#enqueue(this.#lastSnapshot);
      }, result.retryInMs);
    }
    this.#metrics.applies.inc({ target: "haproxy", kind: result.haproxy });
    this.#metrics.applies.inc({ target: "keepalived", kind: result.keepalived });
    if (result.nftables !== undefined) this.#metrics.applies.inc({ target: "nftables", kind: result.nftables });
    if (result.errors.length > 0) {
      this.#metrics.applyErrors.inc(result.errors.length);
      log.error({ errors: result.errors }, "apply failed; the previous configuration stays installed");
    } else {
      log.info(
        {
          services: p.services.length,
          frontends: p.frontends.length,
          haproxy: result.haproxy,
          keepalived: result.keepalived,
        },
        "applied plan",
      );
    }
    await this.#publish();
  }

  /**
   * Publish status for the last plan. A request that comes while a pass runs (taking the Lease
   * over during an apply, a retry timer) is folded into one more pass after it, computed from
   * what that pass wrote, instead of repeating its writes (Events twice, finalizer conflicts).
   */
  #publish(): Promise<void> {
    if (this.#publishing !== undefined) {
      this.#publishAgain = true;
      return this.#publishing;
    }
    this.#publishing = (async () => {
      try {
        do {
          this.#publishAgain = false;
          await this.#publishOnce();
        } while (this.#publishAgain && !this.#stopped);
      } finally {
        this.#publishing = undefined;
      }
    })();
    return this.#publishing;
  }

  /**
   * Ask whether HAProxy runs and say so in the metrics; while it does not, ask again every retry
   * period, and publish once it does (status waits for a running HAProxy).
   */
  async #checkServing(): Promise<void> {
    clearTimeout(this.#servingCheck);
    const started = await this.#installed.refresh();
    this.#metrics.haproxyRunning.set(this.#installed.running ? 1 : 0);
    if (this.#lastPlan !== undefined) this.#metrics.behind.set(this.#installed.view(this.#lastPlan).behind);
    if (this.#stopped) return;
    if (!this.#installed.running)
      this.#servingCheck = setTimeout(() => void this.#checkServing(), this.#o.statusRetryMs ?? 1_000);
    else if (started) void this.#publish();
  }

  async #publishOnce(): Promise<void> {
    const p = this.#lastPlan;
    if (p === undefined || !this.#elector.isLeader() || this.#stopped) return;
    // Status says what this node installed, not what it planned.
    const view = this.#installed.view(p);
    const actions = reconcileStatus(
      this.#watch.services() as ServiceObject[],
      { ...p, services: view.services },
      new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      this.#o.config,
      view.holds,
    );
    if (actions.length === 0) return;
    const report = await publishStatus(this.#o.kubeConfig, actions, () => this.#elector.isLeader());
    this.#metrics.statusWrites.inc(report.applied);
    if (report.failed.length > 0) {
      this.#metrics.statusWriteErrors.inc(report.failed.length);
      this.#o.logger.warn(
        { failed: report.failed.map((f) => `${f.action.namespace}/${f.action.name} ${f.action.kind}: ${f.message}`) },
        "status writes failed; retrying",
      );
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => void this.#publish(), this.#o.statusRetryMs ?? 1_000);
    }
  }

  #listen(): Promise<Server> {
    const { address, port } = this.#o.config.controller.listen;
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      } else if (path === "/readyz") {
        // Whether HAProxy runs is asked afresh: it can stop between two plans.
        void this.#checkServing().then(() => {
          const r = this.readiness();
          res.writeHead(r.ready ? 200 : 503, { "content-type": "text/plain" }).end(`${r.reason}\n`);
        });
      } else if (path === "/metrics") {
        void this.registry
          .metrics()
          .then((text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text));
      } else {
        res.writeHead(404).end();
      }
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, address, () => resolve(server));
    });
  }
}

const frontendIds = (plan: Plan): string => plan.frontends.map((f) => f.id).join(" ");
