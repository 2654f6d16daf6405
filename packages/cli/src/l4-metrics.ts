import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ChecksDown, L4HealthEvent } from "./l4-health.js";
import { readL4Status, type L4Status } from "./status-l4.js";

/** How long one read of the kernel's L4 tables answers scrapes: nft lists a whole table, every flow pin of `direct` with it (1.5 s of CPU for a full map of 65536). */
export const L4_METRICS_READ_MS = 30_000;

/** The L4 metrics of `portico run`. */
export interface L4Metrics {
  /** Count one membership change of the health loop, loaded or failed. */
  readonly moved: (e: L4HealthEvent) => void;
  /** Count one time the health loop found Portico's tables gone from the kernel. */
  readonly lost: () => void;
}

/** Where the L4 metrics come from: the kernel's tables, and the health loop's verdicts. */
export interface L4MetricsSources {
  /** The tables as the kernel runs them; default `nft list`, at most once per {@link L4_METRICS_READ_MS}. */
  readonly read?: () => Promise<L4Status | undefined>;
  /** The nodes HAProxy's checks say are down, by check backend; absent without the health loop. */
  readonly down?: () => ChecksDown;
}

/** One read answers every gauge of a scrape, and the scrapes of the next `everyMs`. */
const cached = (read: () => Promise<L4Status | undefined>, everyMs: number): (() => Promise<L4Status | undefined>) => {
  let last: { readonly at: number; readonly status: Promise<L4Status | undefined> } | undefined;
  return () => {
    const now = performance.now();
    if (last === undefined || now - last.at >= everyMs) last = { at: now, status: read() };
    return last.status;
  };
};

const listenersOf = (s: L4Status | undefined) => (s === undefined || "error" in s ? [] : s.listeners);

/**
 * registerL4Metrics adds to `registry`: the L4 listeners by mode, each target's slots in each
 * listener's Maglev table and each listener's packet counters (both read from the kernel, so they
 * say what runs, not what was planned), the nodes each tracked check has down, and the health
 * loop's membership changes with the time each took from verdict to transaction loaded, and the
 * times it found the tables gone from the kernel.
 */
export const registerL4Metrics = (registry: Registry, sources: L4MetricsSources = {}): L4Metrics => {
  const read = cached(sources.read ?? readL4Status, L4_METRICS_READ_MS);
  new Gauge({
    name: "portico_l4_listeners",
    help: "L4 listeners (nftables nat or direct) the kernel runs on this LB node",
    labelNames: ["mode"],
    registers: [registry],
    async collect() {
      const listeners = listenersOf(await read());
      this.reset();
      for (const mode of ["nat", "direct"] as const)
        this.set({ mode }, listeners.filter((l) => l.mode === mode).length);
    },
  });
  new Gauge({
    name: "portico_l4_table_slots",
    help: "Slots each target (node address, or address . nodePort) holds in an L4 listener's Maglev table",
    labelNames: ["listener", "target"],
    registers: [registry],
    async collect() {
      const listeners = listenersOf(await read());
      this.reset();
      for (const l of listeners) for (const s of l.shares) this.set({ listener: l.id, target: s.target }, s.slots);
    },
  });
  new Counter({
    name: "portico_l4_packets_total",
    help: "Packets an L4 listener's rules counted: forwarded to a node, denied by source ranges, or dropped with no node up",
    labelNames: ["listener", "verdict"],
    registers: [registry],
    async collect() {
      const listeners = listenersOf(await read());
      // The kernel's counters are the truth; a reload of the tables starts them again from 0.
      this.reset();
      for (const l of listeners) {
        if (l.counters === undefined) continue;
        this.inc({ listener: l.id, verdict: "forwarded" }, l.counters.forwarded);
        this.inc({ listener: l.id, verdict: "denied" }, l.counters.denied);
        this.inc({ listener: l.id, verdict: "no_node" }, l.counters.noNode);
      }
    },
  });
  const down = sources.down;
  if (down !== undefined)
    new Gauge({
      name: "portico_l4_nodes_down",
      help: "Nodes out of the L4 tables that track a check, because HAProxy's check says they are down",
      labelNames: ["check"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [check, nodes] of down()) this.set({ check }, nodes.size);
      },
    });
  const changes = new Counter({
    name: "portico_l4_membership_changes_total",
    help: "Element-only transactions of the L4 health loop: loaded, or failed (a repeated failure counts once)",
    labelNames: ["result"],
    registers: [registry],
  });
  const took = new Histogram({
    name: "portico_l4_membership_change_seconds",
    help: "From HAProxy's verdict seen to the L4 membership transaction loaded",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const lost = new Counter({
    name: "portico_l4_tables_lost_total",
    help: "Times the L4 health loop found Portico's tables gone from the kernel (deleted by another program, as `nft flush ruleset` does) and had the ruleset loaded again",
    registers: [registry],
  });
  return {
    lost: () => lost.inc(),
    moved: (e) => {
      changes.inc({ result: e.error === undefined ? "loaded" : "failed" });
      if (e.error === undefined) took.observe(e.tookMs / 1000);
    },
  };
};
