import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import { run, type RunOutput } from "@portico/host";
import type { AdapterError, Plan, ServiceKey, ValidateFn } from "@portico/core";
import { parseAlerts, serviceOf, type Alert } from "./_alerts.js";
import { showKey } from "./_guards.js";

/** Options for {@link validateHaproxy}. */
export interface HaproxyValidateOptions {
  /** The haproxy program: a name looked up on PATH or an absolute path. Default `haproxy`. */
  readonly binary?: string;
  /** The plan the text was rendered from; lets an error name the Service at fault. */
  readonly plan?: Plan;
  /** Give up (and fail) after this long. Default 10 s. */
  readonly timeoutMs?: number;
}

// What haproxy's own messages call the file, instead of the random temp path it really read.
const LABEL = "haproxy.cfg";

/**
 * Check haproxy.cfg text with the real `haproxy -c -f <file>`, using a private temp directory
 * that is removed afterwards. Ok when haproxy accepts it. Otherwise an `Err`: kind `validate` with
 * haproxy's `[ALERT]` lines (each tagged with its frontend/backend and, given `plan`, the Service),
 * `unavailable` when haproxy cannot be started, `io` when the temp file cannot be written.
 */
export const validateHaproxy: ValidateFn<HaproxyValidateOptions> = (text, options) =>
  new ResultAsync(
    withTempFile(text, async (file) => {
      const binary = options.binary ?? "haproxy";
      const timeoutMs = options.timeoutMs ?? 10_000;
      const r = await run(binary, ["-c", "-f", file], { timeoutMs });
      if (r.isErr()) {
        return err({
          kind: "unavailable",
          adapter: "haproxy",
          message: `cannot run ${binary} to check the configuration: ${r.error.message}`,
          ...(r.error.code === "ENOENT"
            ? { hint: "apt-get install -y haproxy (or pass the program's path as binary)" }
            : {}),
        });
      }
      return judge(r.value, file, text, binary, timeoutMs, options.plan);
    }),
  );

const judge = (
  out: RunOutput,
  file: string,
  text: string,
  binary: string,
  timeoutMs: number,
  plan: Plan | undefined,
): Result<void, AdapterError> => {
  if (out.code === 0) return ok(undefined);
  if (out.timedOut) {
    return err({
      kind: "validate",
      adapter: "haproxy",
      message: `${binary} -c did not finish within ${timeoutMs} ms`,
      hint: "raise timeoutMs, or check that haproxy is not stuck",
    });
  }
  const alerts = parseAlerts(`${out.stderr}\n${out.stdout}`, file, LABEL, text);
  const services = alerts.map((a) => serviceOf(plan, a.section));
  const service = services.find((s): s is ServiceKey => s !== undefined);
  const lines =
    alerts.length > 0
      ? alerts.map((a, i) => `${a.text}${where(a, services[i])}`)
      : // No ALERT (a crash, a signal): show what there is, so the failure is never silent.
        [
          `exit ${out.code ?? out.signal ?? "unknown"}: ${`${out.stderr}${out.stdout}`.trim().split(file).join(LABEL) || "no output"}`,
        ];
  return err({
    kind: "validate",
    adapter: "haproxy",
    message: `haproxy -c rejected the configuration:\n${lines.join("\n")}`,
    ...(service === undefined ? {} : { service }),
  });
};

const where = (alert: Alert, service: ServiceKey | undefined): string => {
  if (alert.section === undefined || alert.section.kind === "global" || alert.section.kind === "defaults") return "";
  const of = service === undefined ? "" : `, Service ${showKey(service)}`;
  return ` (in ${alert.section.kind} ${alert.section.name}${of})`;
};

// A fresh private directory per call: concurrent validations never share a file, and the
// directory (mode 0700 from mkdtemp) is removed whatever happens.
const withTempFile = async (
  text: string,
  body: (file: string) => Promise<Result<void, AdapterError>>,
): Promise<Result<void, AdapterError>> => {
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), "portico-haproxy-"));
    const file = join(dir, LABEL);
    await writeFile(file, text, { encoding: "utf8", mode: 0o600 });
    return await body(file);
  } catch (e) {
    return err({
      kind: "io",
      adapter: "haproxy",
      message: `cannot write a temporary haproxy.cfg to check: ${(e as Error).message}`,
    });
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
};
