import type { PlanDiff, ServiceDiff } from "@portico/core";

/** ANSI colours, or none when the output is not a terminal. */
export interface Paint {
  readonly add: (s: string) => string;
  readonly remove: (s: string) => string;
  readonly change: (s: string) => string;
  readonly dim: (s: string) => string;
}

const ansi = (code: number) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
/** Colours for terminals. */
export const COLOURS: Paint = { add: ansi(32), remove: ansi(31), change: ansi(33), dim: ansi(2) };
/** No colour (files, pipes, NO_COLOR). */
export const PLAIN: Paint = { add: (s) => s, remove: (s) => s, change: (s) => s, dim: (s) => s };

const mark = (s: ServiceDiff, p: Paint): string =>
  s.change === "added" ? p.add("+") : s.change === "removed" ? p.remove("-") : p.change("~");

/** `portico plan --against`: the changes, grouped by Service, like a terraform plan. */
export const formatDiff = (d: PlanDiff, against: string, p: Paint = PLAIN): string => {
  const lines: string[] = [`Changes against ${against}:`];
  if (d.services.length === 0 && d.vrrp.length === 0 && d.checks.length === 0 && !d.reload)
    lines.push("  none: the running plan is up to date");
  for (const s of d.services) {
    const vips = [
      ...s.vips.added.map((v) => p.add(`+${v}`)),
      ...s.vips.kept.map((v) => v),
      ...s.vips.released.map((v) => p.remove(`-${v} released`)),
    ].join(" ");
    lines.push(
      `${mark(s, p)} ${s.key}  ${vips || p.dim("no address")}  ${p.dim(`[${s.paths.join(", ") || "status only"}]`)}`,
    );
    for (const f of s.frontends.added) lines.push(`    ${p.add("+")} frontend ${f}`);
    for (const f of s.frontends.removed) lines.push(`    ${p.remove("-")} frontend ${f}`);
    for (const b of s.backends.added) lines.push(`    ${p.add("+")} backend ${b}`);
    for (const b of s.backends.removed) lines.push(`    ${p.remove("-")} backend ${b}`);
    for (const b of s.backends.changed) lines.push(`    ${p.change("~")} backend ${b} settings`);
    for (const x of s.servers) {
      const m = x.change === "added" ? p.add("+") : x.change === "removed" ? p.remove("-") : p.change("~");
      lines.push(`    ${m} server ${x.node} in ${x.backend}${x.fields.length > 0 ? ` (${x.fields.join(", ")})` : ""}`);
    }
    if (s.status) lines.push(`    ${p.change("~")} status`);
  }
  // The shared kube-proxy checks: a node joining, leaving or moving, once for every Cluster Service.
  for (const x of d.checks) {
    const m = x.change === "added" ? p.add("+") : x.change === "removed" ? p.remove("-") : p.change("~");
    lines.push(
      `${m} kube-proxy check of node ${x.node} in ${x.backend}${x.fields.length > 0 ? ` (${x.fields.join(", ")})` : ""}  ${p.dim(`[${d.reload ? "reload" : "runtime"}]`)}`,
    );
  }
  for (const v of d.vrrp) {
    const what =
      v.change === "added"
        ? `added, master ${v.masterAfter ?? "?"}`
        : v.change === "removed"
          ? `removed (was on ${v.masterBefore ?? "?"})`
          : v.masterBefore === v.masterAfter
            ? "changed"
            : `master moves ${v.masterBefore ?? "?"} -> ${v.masterAfter ?? "?"}`;
    lines.push(
      `${v.change === "added" ? p.add("+") : v.change === "removed" ? p.remove("-") : p.change("~")} VRRP vrid ${v.vrid} ${what}`,
    );
  }
  const s = d.summary;
  lines.push(
    "",
    `Summary: ${s.added} added, ${s.changed} changed, ${s.removed} removed, ${s.unchanged} unchanged; ` +
      `HAProxy: ${d.reload ? "reload needed" : d.runtimeOps > 0 ? `${d.runtimeOps} runtime API change${d.runtimeOps === 1 ? "" : "s"}, no reload` : "no change"}; ` +
      `keepalived: ${d.vrrp.length > 0 ? "reload needed" : "no change"}`,
  );
  return `${lines.join("\n")}\n`;
};
