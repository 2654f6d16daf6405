import {
  applyNftablesMembership,
  listPorticoTables,
  renderNftablesMembership,
  tablesNamedIn,
  type NftablesValidateOptions,
  type PorticoTableFamily,
} from "@portico/adapter-nftables";
import { readStats, type StatRow } from "@portico/adapter-haproxy";
import type { LbNodeName, Plan } from "@portico/core";
import { l4MembersServe, type ServesVip } from "./servable.js";

/** How often `portico run` reads HAProxy's check verdicts for the L4 tables: a verdict moves a node within about this plus one `nft -f`. */
export const L4_HEALTH_POLL_MS = 20;

/**
 * How often L4Health looks whether the kernel still holds Portico's tables and loads the verdicts
 * it holds although none changed: the loop otherwise trusts that the kernel holds what it loaded,
 * so another writer's change to an `up_` set or a spill map (an operator's `nft`) would last until
 * the next verdict, and tables deleted (`nft flush ruleset`) until a plan changes the ruleset or
 * `portico run` restarts. The load is the same small transaction as a verdict's, and moves no flow
 * when nothing differs.
 */
export const L4_HEALTH_RESYNC_MS = 10_000;

/** Nodes whose check HAProxy says is down, by the id of the check backend an L4 listener tracks. */
export type ChecksDown = ReadonlyMap<string, ReadonlySet<string>>;

const hostPort = (address: string): string => address.replace(/^\[(.*)\]:(\d+)$/, "$1:$2");

/**
 * l4ChecksDown reads, from HAProxy's `show stat`, which nodes fail the checks the plan's L4
 * listeners track: a check server whose state is DOWN, found by its address and port (the
 * servers sit in slots whose names say nothing of their node). A node HAProxy does not list yet
 * (a check backend not loaded yet) is not down, so a new plan never empties a table.
 */
export const l4ChecksDown = (plan: Plan, rows: readonly StatRow[]): Map<string, Set<string>> => {
  const tracked = new Set<string>();
  for (const l of plan.l4Listeners ?? []) if (l.healthCheck.kind === "track") tracked.add(l.healthCheck.backend);
  const out = new Map<string, Set<string>>();
  for (const c of plan.checks ?? []) {
    if (!tracked.has(c.id)) continue;
    const nodeAt = new Map(c.servers.map((s) => [`${s.address}:${s.port}`, s.node as string]));
    const down = new Set<string>();
    for (const r of rows)
      if (r.type === "server" && r.proxy === c.id && r.state === "DOWN" && r.address !== undefined) {
        const node = nodeAt.get(hostPort(r.address));
        if (node !== undefined) down.add(node);
      }
    out.set(c.id, down);
  }
  return out;
};

/** The same verdicts always print the same key, whatever order they were read in. */
const keyOf = (down: ChecksDown): string =>
  JSON.stringify(
    [...down]
      .filter(([, nodes]) => nodes.size > 0)
      .map(([id, nodes]) => [id, [...nodes].sort()])
      .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)),
  );

/** Options for {@link L4Health}. */
export interface L4HealthOptions {
  /** Told of each membership change loaded, and of a transaction that failed (once per error). */
  readonly log?: (e: L4HealthEvent) => void;
  /** How nft runs (its binary, a network namespace); default `nft` here. */
  readonly nft?: NftablesValidateOptions;
  /** How often the verdicts held are loaded again although none changed; default {@link L4_HEALTH_RESYNC_MS}. */
  readonly resyncMs?: number;
  /**
   * Told, at most once a resync, that the kernel lacks tables of the ruleset (they were deleted
   * by another program): the caller loads the whole ruleset again, as no element update can.
   */
  readonly onLost?: (families: readonly PorticoTableFamily[]) => void;
}

/**
 * What {@link L4Health} tells its caller: each membership change it loaded, and each transaction
 * that failed, a change's or a resync's (a resync that loads changed nothing, and is not told).
 */
export interface L4HealthEvent {
  readonly down: ChecksDown;
  /** From HAProxy's verdict seen to the transaction loaded. */
  readonly tookMs: number;
  readonly error?: string;
}

/**
 * L4Health: the loop of `portico run` that keeps each L4 listener's Maglev table to the nodes
 * whose check (run by HAProxy, never by Portico) passes. Every {@link L4_HEALTH_POLL_MS} it reads
 * `show stat`; when the verdicts differ from what the tables hold, it loads one element-only
 * transaction (`renderNftablesMembership`). {@link L4_HEALTH_RESYNC_MS} after its last load (at
 * once after a load failed) it asks whether the kernel still holds the tables: if so it loads the
 * same verdicts again, if not it tells `onLost`, as only a full load can put them back. HAProxy
 * not answering changes nothing, and without this loop the tables stay as they are (fail static).
 */
export class L4Health {
  #plan: Plan | undefined;
  #loaded: string | undefined;
  #current: ChecksDown = new Map();
  #loadedDown: ChecksDown | undefined;
  #resyncAt = 0;
  readonly #onLoaded = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> = Promise.resolve();
  #lastError: string | undefined;
  readonly #node: LbNodeName;
  readonly #statsSocket: string;
  readonly #log: ((e: L4HealthEvent) => void) | undefined;
  readonly #nft: NftablesValidateOptions;
  readonly #resyncMs: number;
  readonly #onLost: ((families: readonly PorticoTableFamily[]) => void) | undefined;

  /** For LB node `node`, reading HAProxy's verdicts from `statsSocket` (config `haproxy.statsSocket`). */
  constructor(node: LbNodeName, statsSocket: string, options: L4HealthOptions = {}) {
    this.#node = node;
    this.#statsSocket = statsSocket;
    this.#log = options.log;
    this.#nft = options.nft ?? {};
    this.#resyncMs = options.resyncMs ?? L4_HEALTH_RESYNC_MS;
    this.#onLost = options.onLost;
  }

  /** The verdicts last read: a full load of the ruleset renders them too, so it puts no failing node back. */
  down(): ChecksDown {
    return this.#current;
  }

  /**
   * The plan whose ruleset is now installed, with the verdicts it was loaded with; `loadedWith`
   * absent: nothing was loaded (the text was already installed), so the tables hold what they held.
   */
  setPlan(plan: Plan, loadedWith?: ChecksDown): void {
    this.#plan = plan;
    if (loadedWith === undefined) return;
    this.#loaded = keyOf(loadedWith);
    this.#loadedDown = loadedWith;
    this.#resyncAt = performance.now();
  }

  /**
   * Whether each VIP's tables are non-empty, by what this loop and the last full load put in them
   * (no `nft list`, which takes a 16381-slot map hundreds of milliseconds); undefined before
   * anything was loaded.
   */
  serves(): ServesVip | undefined {
    return this.#plan === undefined || this.#loadedDown === undefined
      ? undefined
      : l4MembersServe(this.#plan, this.#loadedDown);
  }

  /** Call `fn` after each membership transaction this loop loads, so a reader looks at once; returns the unsubscribe. */
  onLoaded(fn: () => void): () => void {
    this.#onLoaded.add(fn);
    return () => this.#onLoaded.delete(fn);
  }

  /** Look once now (and wait for what it loads). */
  tick(): Promise<void> {
    this.#busy = this.#busy.then(() => this.#look());
    return this.#busy;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    const loop = () => {
      void this.tick().finally(() => {
        if (this.#timer !== undefined) this.#timer = setTimeout(loop, L4_HEALTH_POLL_MS);
      });
    };
    this.#timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#busy;
  }

  /** The tables `text` writes into that the kernel does not hold (none when nft cannot be asked). */
  async #lostTables(text: string): Promise<PorticoTableFamily[]> {
    const present = await listPorticoTables({ timeoutMs: 2_000, ...this.#nft });
    return present === undefined ? [] : [...tablesNamedIn(text)].filter((f) => !present.has(f)).sort();
  }

  async #look(): Promise<void> {
    const plan = this.#plan;
    if (plan === undefined || this.#loaded === undefined) return;
    if ((plan.l4Listeners ?? []).length === 0) return;
    const rows = await readStats(this.#statsSocket, { timeoutMs: 200 });
    if (rows.isErr()) return;
    const seen = performance.now();
    const down = l4ChecksDown(plan, rows.value);
    this.#current = down;
    const key = keyOf(down);
    const resync = key === this.#loaded;
    const due = seen - this.#resyncAt >= this.#resyncMs;
    if ((resync && !due) || plan !== this.#plan) return;
    const text = renderNftablesMembership(plan, { node: this.#node, checkDown: down });
    // A verdict that changed loads at once: the tables are asked for on a resync, or after a failure.
    if (resync || this.#resyncAt === -Infinity) {
      this.#resyncAt = seen;
      const lost = text.isOk() ? await this.#lostTables(text.value) : [];
      // A full load meanwhile wrote tables and elements of its own.
      if (plan !== this.#plan) return;
      if (lost.length > 0) {
        this.#onLost?.(lost);
        return;
      }
    }
    const loaded = text.isErr() ? text : await applyNftablesMembership(text.value, { timeoutMs: 2_000, ...this.#nft });
    const tookMs = performance.now() - seen;
    if (loaded.isOk()) {
      // A plan loaded meanwhile was rendered with verdicts of its own: the next look compares with those.
      if (plan === this.#plan) {
        this.#loaded = key;
        this.#loadedDown = down;
        this.#resyncAt = seen;
      }
      this.#lastError = undefined;
      if (resync) return;
      this.#log?.({ down, tookMs });
      for (const fn of this.#onLoaded) fn();
      return;
    }
    // A failing transaction is tried again at every look, and said once; the first failure makes
    // the next look ask for the tables first (they may be gone).
    if (loaded.error.message !== this.#lastError) {
      this.#log?.({ down, tookMs, error: loaded.error.message });
      this.#resyncAt = -Infinity;
    }
    this.#lastError = loaded.error.message;
  }
}
