import { ok, ResultAsync } from "neverthrow";
import { ipFamily, ipToBigInt, parseIp, type AdapterError, type Config, type Ip, type Pool } from "@portico/core";
import { run } from "@portico/host";

const failure = (message: string): AdapterError => ({ kind: "apply", adapter: "bird", message });

const inBgpPool = (ip: Ip, pools: readonly Pool[]): boolean => {
  const n = ipToBigInt(ip);
  const f = ipFamily(ip);
  return pools.some((p) => p.announce === "bgp" && p.ranges.some((r) => r.family === f && r.first <= n && n <= r.last));
};

const ip = (args: readonly string[]): ResultAsync<string, AdapterError> =>
  run("ip", args, { timeoutMs: 10_000 })
    .mapErr((e) => failure(`ip ${args.join(" ")}: ${e.message}`))
    .andThen((out) =>
      out.code === 0
        ? ok(out.stdout)
        : ResultAsync.fromPromise(Promise.reject(new Error(out.stderr)), () =>
            failure(`ip ${args.join(" ")}: ${out.stderr.trim().slice(0, 300)}`),
          ),
    );

/** The host addresses on `lo` (`ip -o addr show dev lo`), parsed. */
const onLoopback = (): ResultAsync<Ip[], AdapterError> =>
  ip(["-o", "addr", "show", "dev", "lo"]).map((text) =>
    text.split("\n").flatMap((line) => {
      const m = /\sinet6? ([0-9a-f.:]+)\/(32|128)\s/.exec(line);
      const parsed = parseIp(m?.[1] ?? "");
      return parsed.isOk() ? [parsed.value] : [];
    }),
  );

/**
 * syncLoopbackVips makes the BGP VIPs this LB node announces local to it (a /32 or /128 on `lo`),
 * so HAProxy receives what the routers send it, and removes the ones of a BGP pool it no longer
 * announces. Addresses outside the BGP pools are never touched. Returns what it added and removed.
 */
export const syncLoopbackVips = (
  vips: readonly Ip[],
  config: Config,
): ResultAsync<{ readonly added: readonly Ip[]; readonly removed: readonly Ip[] }, AdapterError> =>
  onLoopback().andThen((present) => {
    const want = new Set(vips);
    const have = new Set(present);
    const added = vips.filter((v) => !have.has(v));
    const removed = present.filter((v) => !want.has(v) && inBgpPool(v, config.pools));
    const steps = [
      ...added.map((v) => ["addr", "add", `${v}/${ipFamily(v) === 4 ? 32 : 128}`, "dev", "lo"]),
      ...removed.map((v) => ["addr", "del", `${v}/${ipFamily(v) === 4 ? 32 : 128}`, "dev", "lo"]),
    ];
    return steps
      .reduce<ResultAsync<unknown, AdapterError>>(
        (acc, args) => acc.andThen(() => ip(args)),
        ResultAsync.fromSafePromise(Promise.resolve(undefined)),
      )
      .map(() => ({ added, removed }));
  });
