import { err, ok, safeTry, type Result } from "neverthrow";
import type { AdapterError, HealthCheckConfig, HttpCheck } from "@portico/core";
import { formatDuration } from "../_format.js";
import { guardInt, guardPort, show } from "../_guards.js";
import type { Fail } from "./_renderError.js";

// haproxy.cfg is line-oriented and an HTTP path is printed as one word: keep it to plain characters.
const HEALTH_PATH = /^\/[A-Za-z0-9_./-]{0,255}$/;

/** The defaults section's `timeout connect` and `timeout check`. */
const DEFAULT_TIMEOUT_MS = 1000;
/** A check's timeout never goes below this: a /healthz that answers in a few hundred ms stays up. */
const MIN_TIMEOUT_MS = 500;
/** What the worst case keeps below `inter + fall x fastinter + 2 s`, for a loaded machine. */
const MARGIN_MS = 1000;

const faster = (inter: number, ms: number | undefined): number => (ms === undefined ? inter : Math.min(ms, inter));

/** The lines of an HTTP health check, the port it goes to, and its timing. */
export const renderHttpCheck = (
  hc: HttpCheck,
  fail: Fail,
  hcConfig: HealthCheckConfig,
): Result<{ lines: readonly string[]; port: number; timing: string; timeoutMs: number }, AdapterError> =>
  safeTry(function* () {
    if (typeof hc.path !== "string" || !HEALTH_PATH.test(hc.path))
      return err(fail("healthCheck.path")(`${show(hc.path)} is not a plain absolute path`));
    const status = yield* guardInt(hc.expectStatus, 100, 599).mapErr(fail("healthCheck.expectStatus"));
    const port = yield* guardPort(hc.port).mapErr(fail("healthCheck.port"));
    const inter = yield* guardInt(hc.intervalMs, 1, 86_400_000).mapErr(fail("healthCheck.intervalMs"));
    const fall = yield* guardInt(hc.fall, 1, 1000).mapErr(fail("healthCheck.fall"));
    const rise = yield* guardInt(hc.rise, 1, 1000).mapErr(fail("healthCheck.rise"));
    return ok({
      lines: [`option httpchk GET ${hc.path}`, `http-check expect status ${status}`],
      port,
      timing: checkTiming(inter, fall, rise, hcConfig),
      timeoutMs: checkTimeoutMs(inter, fall, hcConfig),
    });
  });

/**
 * A health check's timing. fastinter/downinter come from the config but never slow a check
 * down: a Service that asks for a shorter interval still falls and rises at its own pace.
 */
export const checkTiming = (inter: number, fall: number, rise: number, hcConfig: HealthCheckConfig): string => {
  return `inter ${formatDuration(inter)} fastinter ${formatDuration(faster(inter, hcConfig.fastinterMs))} downinter ${formatDuration(faster(inter, hcConfig.downinterMs))} fall ${fall} rise ${rise}`;
};

/**
 * A check's timeout (connect, and reading the answer), so that a node that never answers is down
 * within `inter + fall x fastinter + 2 s`: each of the `fall` failing checks waits for it and the
 * next starts `fastinter` after, so the worst case is `inter + fall x timeout + (fall - 1) x
 * fastinter`, and `fall x timeout <= fastinter + 2 s - margin` keeps it inside. In 100 ms steps,
 * between {@link MIN_TIMEOUT_MS} and the defaults' 1 s.
 */
export const checkTimeoutMs = (inter: number, fall: number, hcConfig: HealthCheckConfig): number => {
  const budget = (faster(inter, hcConfig.fastinterMs) + 2000 - MARGIN_MS) / fall;
  return Math.max(MIN_TIMEOUT_MS, Math.min(DEFAULT_TIMEOUT_MS, Math.floor(budget / 100) * 100));
};

/** The timeout lines a check's timeout needs: none when it is the defaults'. */
export const checkTimeoutLines = (ms: number, connect: boolean): readonly string[] =>
  ms >= DEFAULT_TIMEOUT_MS
    ? []
    : [...(connect ? [`timeout connect ${formatDuration(ms)}`] : []), `timeout check ${formatDuration(ms)}`];
