import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";

/** Lease settings, as client-go's leader election names them. */
export interface LeaseOptions {
  readonly namespace: string;
  readonly name: string;
  /** This process's identity, e.g. the LB node name. */
  readonly identity: string;
  /** How long a lease holds without renewal. */
  readonly leaseDurationMs: number;
  /** A leader that has not renewed for this long stops acting as leader (< leaseDurationMs). */
  readonly renewDeadlineMs: number;
  /** Time between attempts to acquire or renew. */
  readonly retryPeriodMs: number;
}

/** Sensible defaults: client-go's 15 s / 10 s / 2 s. */
export const LEASE_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

/** Callbacks on leadership changes. */
export interface LeaderCallbacks {
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: () => void;
  readonly onError?: (message: string) => void;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease with optimistic concurrency. Another holder's
 * lease is judged expired by this process's own clock, from when it last saw the lease change
 * (never from the remote timestamps, so clock skew cannot elect two leaders). `isLeader()` turns
 * false the moment renewals have failed for `renewDeadlineMs`, before anyone else can take over.
 */
export class LeaderElector {
  readonly #api: CoordinationV1Api;
  readonly #options: LeaseOptions;
  readonly #callbacks: LeaderCallbacks;
  #leader = false;
  #lastRenew = 0;
  #observed: { resourceVersion: string; holder: string; at: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** The acquire/renew round under way, if any: stop waits for it so its write cannot land after the release. */
  #inflight: Promise<void> | undefined;

  constructor(kc: KubeConfig, options: LeaseOptions, callbacks: LeaderCallbacks = {}) {
    this.#api = kc.makeApiClient(CoordinationV1Api);
    this.#options = options;
    this.#callbacks = callbacks;
  }

  /** Whether this process may act as leader right now. */
  isLeader(): boolean {
    if (this.#leader && Date.now() - this.#lastRenew > this.#options.renewDeadlineMs) this.#lose();
    return this.#leader;
  }

  /** Start trying to acquire and then renew the lease. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#inflight = this.#tick();
  }

  /** Stop renewing without releasing the lease, as a process that dies does (tests, crash drills). */
  abandon(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#lose();
  }

  /** Stop; a leader releases the lease so another node takes over without waiting for it to expire. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    // Bounded: a round stuck on an unreachable API server must not hold up shutdown.
    let capTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#inflight,
      new Promise<void>((r) => (capTimer = setTimeout(r, this.#options.renewDeadlineMs))),
    ]);
    clearTimeout(capTimer);
    const wasLeader = this.#leader || this.#lastRenew > 0;
    this.#lose();
    // Release even if leadership lapsed a moment ago (a slow renewal): the lease may still name us.
    if (!wasLeader) return;
    try {
      const lease = await this.#api.readNamespacedLease({
        name: this.#options.name,
        namespace: this.#options.namespace,
      });
      if (lease.spec?.holderIdentity !== this.#options.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 };
      await this.#api.replaceNamespacedLease({
        name: this.#options.name,
        namespace: this.#options.namespace,
        body: lease,
      });
    } catch {
      // The lease will expire by itself.
    }
  }

  async #tick(): Promise<void> {
    if (!this.#running) return;
    try {
      const acquired = await this.#tryAcquireOrRenew();
      if (acquired) {
        this.#lastRenew = Date.now();
        if (!this.#leader) {
          this.#leader = true;
          this.#callbacks.onStartedLeading?.();
        }
      } else if (this.#leader) this.#lose();
    } catch (e) {
      this.#callbacks.onError?.(`lease ${this.#options.namespace}/${this.#options.name}: ${(e as Error).message}`);
      this.isLeader(); // drops leadership once the renew deadline has passed
    }
    if (this.#running)
      this.#timer = setTimeout(() => {
        this.#inflight = this.#tick();
      }, this.#options.retryPeriodMs);
  }

  #lose(): void {
    if (!this.#leader) return;
    this.#leader = false;
    this.#callbacks.onStoppedLeading?.();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.#options;
    const now = new V1MicroTime();
    const durationSeconds = Math.max(1, Math.ceil(leaseDurationMs / 1000));
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
      try {
        await this.#api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (c) {
        if ((c as { code?: number }).code === 409) return false; // someone else created it first
        throw c;
      }
    }
    const holder = lease.spec?.holderIdentity ?? "";
    const rv = lease.metadata?.resourceVersion ?? "";
    if (this.#observed === undefined || this.#observed.resourceVersion !== rv)
      this.#observed = { resourceVersion: rv, holder, at: Date.now() };
    const theirDurationMs = (lease.spec?.leaseDurationSeconds ?? durationSeconds) * 1000;
    const held = holder !== "" && holder !== identity && Date.now() - this.#observed.at < theirDurationMs;
    if (held) return false;
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    lease.spec = {
      ...lease.spec,
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: now,
      leaseTransitions: transitions,
      ...(holder === identity ? {} : { acquireTime: now }),
    };
    try {
      await this.#api.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (e) {
      if ((e as { code?: number }).code === 409) return false; // lost a race; try again next period
      throw e;
    }
  }
}
