import { err, ok, safeTry, type Result } from "neverthrow";
import type { AdapterError, Frontend, Ip, Port } from "@portico/core";
import { formatDuration, formatEndpoint } from "../_format.js";
import { guardCidr, guardIdent, guardInt, guardIp, guardOneOf, guardPort, show } from "../_guards.js";
import { label, renderError } from "./_renderError.js";
import { sectionLines } from "./_section.js";

/**
 * bindLine: how a frontend binds its VIP and port, the one text both haproxy.cfg and the bind
 * probe use, so the probe binds exactly as a reload would.
 */
export const bindLine = (vip: Ip, port: Port): string => `bind ${formatEndpoint(vip, port)} transparent`;

/**
 * A frontend's lines: it listens on its VIP and port, admits its source ranges, and sends to its
 * backend, which must be one of `backendIds`.
 */
export const renderFrontend = (
  f: Frontend,
  backendIds: ReadonlySet<string>,
  maxconn: number | undefined,
): Result<readonly string[], AdapterError> =>
  safeTry(function* () {
    const fail = (field: string) => (m: string) => renderError(`${label("frontend", f.id)} ${field}: ${m}`, f.service);
    const id = yield* guardIdent(f.id).mapErr(fail("id"));
    const vip = yield* guardIp(f.vip).mapErr(fail("vip"));
    const port = yield* guardPort(f.port).mapErr(fail("port"));
    yield* guardOneOf(f.protocol, ["TCP"] as const).mapErr(fail("protocol"));
    const backend = yield* guardIdent(f.backend).mapErr(fail("backend"));
    if (!backendIds.has(backend)) return err(fail("backend")(`${show(backend)} is not a backend of this plan`));
    const ranges: string[] = [];
    for (const r of f.sourceRanges ?? []) ranges.push(yield* guardCidr(r).mapErr(fail("sourceRanges")));
    const clientTimeout =
      f.clientTimeoutMs === undefined
        ? []
        : [
            `timeout client ${formatDuration(yield* guardInt(f.clientTimeoutMs, 1, 86_400_000).mapErr(fail("clientTimeoutMs")))}`,
          ];
    // loadBalancerSourceRanges: an ACL of the canonical CIDRs (several lines of one ACL are ORed),
    // checked at connection time so a refused client costs no backend connection.
    const admission =
      ranges.length === 0
        ? []
        : [
            ...chunks(ranges, 16).map((c) => `acl src_allowed src ${c.join(" ")}`),
            "tcp-request connection reject unless src_allowed",
          ];
    return ok(
      sectionLines(`frontend ${id}`, [
        // `transparent` binds the VIP even on a backup LB node that does not hold it yet, so
        // failover needs no HAProxy reload.
        bindLine(vip, port),
        ...(maxconn === undefined ? [] : [`maxconn ${maxconn}`]),
        ...clientTimeout,
        ...admission,
        `default_backend ${backend}`,
      ]),
    );
  });

const chunks = <T>(list: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
};
