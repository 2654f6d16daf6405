import { readBirdStatus } from "@portico/adapter-bird";
import { Counter, Gauge, type Registry } from "prom-client";
import type { BgpRuntime } from "./bgp-runtime.js";

/** The BGP metrics of `portico run`, read when /metrics is scraped. */
export interface BgpMetrics {
  /** Count one change the announcer made. */
  readonly changed: (announced: boolean) => void;
}

/**
 * registerBgpMetrics adds to `registry`: how many VIPs this node announces and is planned to,
 * each session's state and BFD state (asked of BIRD at each scrape), and a counter of
 * announcements and withdrawals.
 */
export const registerBgpMetrics = (registry: Registry, runtime: BgpRuntime, socket: string): BgpMetrics => {
  new Gauge({
    name: "portico_bgp_announced_prefixes",
    help: "VIPs (/32 and /128) this LB node announces by BGP now",
    registers: [registry],
    collect() {
      this.set(runtime.announcer.announced().length);
    },
  });
  new Gauge({
    name: "portico_bgp_planned_prefixes",
    help: "VIPs the plan has this LB node announce by BGP (announced only while it can serve them)",
    registers: [registry],
    collect() {
      this.set(runtime.planned().length);
    },
  });
  new Gauge({
    name: "portico_bgp_session_established",
    help: "1 while the BGP session with the peer is established",
    labelNames: ["peer"],
    registers: [registry],
    async collect() {
      const s = await readBirdStatus({ socket, timeoutMs: 2_000 });
      this.reset();
      for (const p of s.isOk() ? s.value.protocols : [])
        if (p.proto === "BGP" && p.neighbor !== undefined)
          this.set({ peer: p.neighbor }, p.info === "Established" ? 1 : 0);
    },
  });
  new Gauge({
    name: "portico_bgp_bfd_up",
    help: "1 while the BFD session with the peer is up (absent without BFD)",
    labelNames: ["peer"],
    registers: [registry],
    async collect() {
      const s = await readBirdStatus({ socket, timeoutMs: 2_000 });
      this.reset();
      for (const b of s.isOk() ? s.value.bfd : []) this.set({ peer: b.address }, b.state === "Up" ? 1 : 0);
    },
  });
  const changes = new Counter({
    name: "portico_bgp_announce_changes_total",
    help: "VIPs announced and withdrawn by this LB node",
    labelNames: ["change"],
    registers: [registry],
  });
  return { changed: (announced) => changes.inc({ change: announced ? "announced" : "withdrawn" }) };
};
