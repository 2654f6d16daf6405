import { constants } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { ResultAsync } from "neverthrow";
import { match } from "ts-pattern";
import { parseCpuList, parseCpuMask, type AdapterError, type TuningPlan, type TuningWrite } from "@portico/core";
import { pathOf, type Roots } from "./_paths.js";

/** Options for {@link applyTuning}. */
export interface ApplyOptions extends Roots {
  /** Read and compare only; write nothing. */
  readonly dryRun: boolean;
}

/**
 * What happened to one planned write. `ok` is false when the node is not as planned afterwards:
 * the kernel refused the value, changed it, or the file is missing.
 */
export type WriteOutcome =
  | {
      readonly status: "unchanged";
      readonly ok: true;
      readonly write: TuningWrite;
      readonly path: string;
      readonly current: string;
    }
  | {
      readonly status: "would-change";
      readonly ok: true;
      readonly write: TuningWrite;
      readonly path: string;
      readonly current: string;
    }
  | {
      readonly status: "changed";
      readonly ok: true;
      readonly write: TuningWrite;
      readonly path: string;
      readonly previous: string;
      readonly readBack: string;
    }
  | {
      readonly status: "kernel-changed";
      readonly ok: false;
      readonly write: TuningWrite;
      readonly path: string;
      readonly previous: string;
      readonly readBack: string;
    }
  | {
      readonly status: "refused";
      readonly ok: false;
      readonly write: TuningWrite;
      readonly path: string;
      readonly previous: string;
      readonly message: string;
    }
  | {
      readonly status: "missing";
      readonly ok: boolean;
      readonly write: TuningWrite;
      readonly path: string;
      readonly message: string;
    };

/** Every write's outcome, in plan order. */
export interface ApplyReport {
  readonly outcomes: readonly WriteOutcome[];
  /** True when every outcome is ok. */
  readonly ok: boolean;
}

/** Whether the text in a file already means what the write would put there (the kernel pads masks and adds newlines). */
export const sameValue = (write: TuningWrite, text: string): boolean =>
  match(write)
    .with({ kind: "rps_cpus" }, { kind: "xps_cpus" }, (w) =>
      parseCpuMask(text).match(
        (c) => c.join() === w.cpus.join(),
        () => false,
      ),
    )
    .with({ kind: "irq_affinity" }, (w) =>
      parseCpuList(text).match(
        (c) => c.join() === w.cpus.join(),
        () => false,
      ),
    )
    .with(
      { kind: "rps_flow_cnt" },
      { kind: "rps_sock_flow_entries" },
      (w) => /^\d+$/.test(text.trim()) && Number(text.trim()) === w.count,
    )
    .exhaustive();

const errno = (e: unknown): string => {
  const x = e as NodeJS.ErrnoException;
  return x.code === undefined ? x.message : `${x.code}: ${x.message.replace(/^[A-Z]+: /, "")}`;
};

// sysfs and procfs attributes are not files that can be replaced by rename: each is written in
// place with one write(2), which the kernel applies whole or refuses. O_CREAT is left out so a
// missing attribute is reported, never created.
const writeInPlace = async (path: string, value: string): Promise<void> => {
  const fh = await open(path, constants.O_WRONLY | constants.O_TRUNC);
  try {
    await fh.write(`${value}\n`);
  } finally {
    await fh.close();
  }
};

const one = async (write: TuningWrite, roots: Roots, dryRun: boolean): Promise<WriteOutcome> => {
  const path = pathOf(write, roots);
  if (path.isErr()) return { status: "missing", ok: false, write, path: "", message: path.error.message };
  const p = path.value;
  let current: string;
  try {
    current = (await readFile(p, "utf8")).trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // The global RFS table exists only in the initial network namespace.
    const ok = write.kind === "rps_sock_flow_entries" && code === "ENOENT";
    const message = ok
      ? `${p} does not exist: not the host's initial network namespace; set it there for RFS to take effect`
      : `cannot read ${p}: ${errno(e)}`;
    return { status: "missing", ok, write, path: p, message };
  }
  if (sameValue(write, current)) return { status: "unchanged", ok: true, write, path: p, current };
  if (dryRun) return { status: "would-change", ok: true, write, path: p, current };
  try {
    await writeInPlace(p, write.value);
  } catch (e) {
    return { status: "refused", ok: false, write, path: p, previous: current, message: errno(e) };
  }
  let readBack: string;
  try {
    readBack = (await readFile(p, "utf8")).trim();
  } catch (e) {
    return {
      status: "refused",
      ok: false,
      write,
      path: p,
      previous: current,
      message: `written, but cannot read back: ${errno(e)}`,
    };
  }
  return sameValue(write, readBack)
    ? { status: "changed", ok: true, write, path: p, previous: current, readBack }
    : { status: "kernel-changed", ok: false, write, path: p, previous: current, readBack };
};

/**
 * Apply a tuning plan: for each write, read the file, leave it alone when it already holds the
 * value, else write it and read it back. A dry run only reads and compares. One failed write
 * never stops the others; every outcome is reported.
 */
export const applyTuning = (plan: TuningPlan, options: ApplyOptions): ResultAsync<ApplyReport, AdapterError> =>
  ResultAsync.fromPromise(
    (async () => {
      const outcomes: WriteOutcome[] = [];
      for (const w of plan.writes) outcomes.push(await one(w, options, options.dryRun));
      return { outcomes, ok: outcomes.every((o) => o.ok) };
    })(),
    (e): AdapterError => ({ kind: "apply", adapter: "sysfs", message: `applying tuning: ${(e as Error).message}` }),
  );
