import { err, ok, safeTry, type Result } from "neverthrow";
import type { AdapterError, HealthCheckConfig, HttpCheck } from "@portico/core";
import { formatDuration } from "../_format.js";
import { guardInt, guardPort, show } from "../_guards.js";
import type { Fail } from "./_renderError.js";

// haproxy.cfg is line-oriented and an HTTP path is printed as one word: keep it to plain characters.
const HEALTH_PATH = /^\/[A-Za-z0-9_./-]{0,255}$/;

/** The lines of an HTTP health check, the port it goes to, and its timing. */
export const renderHttpCheck = (
  hc: HttpCheck,
  fail: Fail,
  hcConfig: HealthCheckConfig,
): Result<{ lines: readonly string[]; port: number; timing: string }, AdapterError> =>
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
    });
  });

/**
 * A health check's timing. fastinter/downinter come from the config but never slow a check
 * down: a Service that asks for a shorter interval still falls and rises at its own pace.
 */
export const checkTiming = (inter: number, fall: number, rise: number, hcConfig: HealthCheckConfig): string => {
  const faster = (ms: number | undefined): number => (ms === undefined ? inter : Math.min(ms, inter));
  return `inter ${formatDuration(inter)} fastinter ${formatDuration(faster(hcConfig.fastinterMs))} downinter ${formatDuration(faster(hcConfig.downinterMs))} fall ${fall} rise ${rise}`;
};
