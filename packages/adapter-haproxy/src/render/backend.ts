import { err, ok, safeTry, type Result } from "neverthrow";
import { match } from "ts-pattern";
import {
  BALANCES,
  PROXY_PROTOCOLS,
  type AdapterError,
  type Backend,
  type HealthCheckConfig,
  type Server,
} from "@portico/core";
import { formatDuration } from "../_format.js";
import { guardIdent, guardInt, guardOneOf, show } from "../_guards.js";
import type { SlotLine } from "../_installed.js";
import { MAX_READ_SLOT } from "../_serverLine.js";
import { alignSlots, layoutSlots } from "../_slots.js";
import { checkTimeoutLines, checkTiming, renderHttpCheck } from "./_healthCheck.js";
import type { Memo } from "./_memo.js";
import { label, renderError, unique, type Fail } from "./_renderError.js";
import { sectionLines, sectionOf, type Section } from "./_section.js";
import { PEERS } from "./peers.js";
import { guardServer, slotServerLines, type CheckSlots } from "./_slotLines.js";

/**
 * A rendered Cluster-policy backend, as a node joining or leaving patches it: the server in each
 * slot, and where every `HINT_EVERY`th slot's line starts in the section's text (so a patch
 * finds a line by searching a few lines rather than the section). Only kept while every server's
 * id is the node it tracks, as the planner makes them.
 */
export interface PatchableSlots {
  readonly layout: readonly (Server | undefined)[];
  readonly hints: readonly number[];
}

/** A rendered backend: its section, the slots `readInstalled` reads back from it, and what a slot patch needs. */
export interface RenderedBackend {
  readonly section: Section;
  readonly slots: readonly SlotLine[];
  readonly patchable?: PatchableSlots;
}

/**
 * A Service's backend: balance, timeouts, affinity, its health check (HTTP, TCP, or tracking a
 * check backend of `checks`), and its servers in fixed slots. `installed` are the slots of the
 * file now installed, which live servers keep; `was` the section it rendered last time, whose
 * hash is kept when only slot contents changed.
 */
export const renderBackend = (
  b: Backend,
  checks: ReadonlyMap<string, { readonly trackable: CheckSlots }>,
  installed: readonly SlotLine[] | undefined,
  hcConfig: HealthCheckConfig,
  memo: Memo,
  was: Section | undefined,
): Result<RenderedBackend, AdapterError> =>
  safeTry(function* () {
    const fail: Fail = (field) => (m) => renderError(`${label("backend", b.id)} ${field}: ${m}`, b.service);
    const hc = b.healthCheck;
    const id = yield* guardIdent(b.id).mapErr(fail("id"));
    const balance = yield* guardOneOf(b.balance, BALANCES).mapErr(fail("balance"));
    const proxy = yield* guardOneOf(b.proxyProtocol, PROXY_PROTOCOLS).mapErr(fail("proxyProtocol"));
    const kind = yield* guardOneOf(hc.kind, ["http", "tcp", "track"] as const).mapErr(fail("healthCheck.kind"));
    const sendProxy = match(proxy)
      .with("none", () => "")
      .with("v1", () => " send-proxy")
      .with("v2", () => " send-proxy-v2")
      .exhaustive();
    let checkLines: string[];
    let trackIn: CheckSlots | undefined;
    if (hc.kind === "http" && kind === "http") {
      const h = yield* renderHttpCheck(hc, fail, hcConfig);
      // `port` sends checks to the health port, not the nodePort; because a port is set, HAProxy
      // does not put a PROXY header on checks (kube-proxy's /healthz would not understand one).
      // Clients connect through this backend too, so only the read is shortened: a check's connect
      // waits min(timeout connect, inter), the clients' 1 s.
      checkLines = [
        ...checkTimeoutLines(h.timeoutMs, false),
        ...h.lines,
        `default-server check port ${h.port} ${h.timing}${sendProxy}`,
      ];
    } else if (hc.kind === "tcp" && kind === "tcp") {
      const inter = yield* guardInt(hc.intervalMs, 1, 86_400_000).mapErr(fail("healthCheck.intervalMs"));
      const fall = yield* guardInt(hc.fall, 1, 1000).mapErr(fail("healthCheck.fall"));
      const rise = yield* guardInt(hc.rise, 1, 1000).mapErr(fail("healthCheck.rise"));
      // Pods have no /healthz: a TCP connect to the pod's own port is the check.
      checkLines = [`default-server check ${checkTiming(inter, fall, rise, hcConfig)}${sendProxy}`];
    } else if (hc.kind === "track" && kind === "track") {
      const chk = yield* guardIdent(hc.backend).mapErr(fail("healthCheck.backend"));
      trackIn = checks.get(chk)?.trackable;
      if (trackIn === undefined)
        return err(fail("healthCheck.backend")(`${show(chk)} is not a check backend of this plan`));
      // No checks of its own: each server follows its node's shared kube-proxy check (`track`).
      checkLines = sendProxy === "" ? [] : [`default-server${sendProxy}`];
    } else return err(fail("healthCheck.kind")(`${show(hc.kind)} does not match the check's fields`));
    const affinity: string[] = [];
    if (b.affinity !== undefined) {
      yield* guardOneOf(b.affinity.kind, ["clientIp"] as const).mapErr(fail("affinity.kind"));
      const expire = yield* guardInt(b.affinity.timeoutSeconds, 1, 86_400).mapErr(fail("affinity.timeoutSeconds"));
      if (b.family !== 4 && b.family !== 6) return err(fail("family")(`${show(b.family)} is not 4 or 6`));
      const family = b.family;
      // sessionAffinity: ClientIP. A stick table survives runtime server changes, and reloads through
      // the local peer; when the stuck server goes down, `option redispatch` moves the client and
      // the entry is rewritten.
      affinity.push(
        `stick-table type ${family === 6 ? "ipv6" : "ip"} size 100k expire ${expire}s peers ${PEERS}`,
        "stick on src",
      );
    }
    const timeouts: string[] = [];
    for (const [name, value] of [
      ["connect", b.timeouts?.connectMs],
      ["server", b.timeouts?.serverMs],
      ["tunnel", b.timeouts?.tunnelMs],
    ] as const) {
      if (value !== undefined)
        timeouts.push(
          `timeout ${name} ${formatDuration(yield* guardInt(value, 1, 86_400_000).mapErr(fail(`timeouts.${name}Ms`)))}`,
        );
    }
    yield* unique(b.servers, `${label("backend", b.id)} server`, b.service);
    for (const s of b.servers) {
      const bad = guardServer(s, fail, trackIn, memo);
      if (bad !== undefined) return err(bad);
    }
    // Each node has one check slot: two servers tracking it would need the same slot.
    if (trackIn !== undefined)
      yield* unique(
        b.servers.map((s) => ({ id: String(s.track) })),
        `${label("backend", b.id)} server track`,
        b.service,
      );
    // Fixed slots: a server joining or leaving fills or empties a slot through the runtime API.
    // Cluster-policy slots are the check backend's: slot N tracks chk/slotN, always the same node.
    const layout = trackIn === undefined ? layoutSlots(b.servers, installed) : alignSlots(b.servers, trackIn.slots);
    const servers = (head: string) => slotServerLines(head, id, layout, b.family, installed, fail, trackIn, memo);
    const head = sectionLines(`backend ${id}`, [
      `balance ${balance}`,
      // `source` with consistent hashing keeps most clients on their node when servers are added
      // or removed at run time (and lets the runtime API add and remove servers at all).
      ...(balance === "source" ? ["hash-type consistent"] : []),
      ...timeouts,
      ...affinity,
      ...checkLines,
    ]).join("\n");
    const lines = yield* servers(head);
    const rendered = sectionOf(lines.text, head + lines.skeleton, was);
    // Patchable while each server's id names the node it tracks (so one slot holds one id) and
    // every slot number is one `readInstalled` reads.
    const patchable =
      trackIn !== undefined && layout.length <= MAX_READ_SLOT && b.servers.every((x) => x.id === x.track)
        ? { layout, hints: lines.hints }
        : undefined;
    return ok({ section: rendered, slots: lines.slots, ...(patchable === undefined ? {} : { patchable }) });
  });
