import { err, ok, type Result } from "neverthrow";
import { match } from "ts-pattern";
import { parseInterfaceName, type AdapterError, type TuningWrite } from "@portico/core";

/** Where /sys and /proc are; tests point these at a fake tree. */
export interface Roots {
  readonly sysRoot: string;
  readonly procRoot: string;
}

const bad = (message: string): AdapterError => ({ kind: "validate", adapter: "sysfs", message });

const index = (n: number, what: string): Result<number, AdapterError> =>
  Number.isSafeInteger(n) && n >= 0 && n < 1 << 20
    ? ok(n)
    : err(bad(`${what} ${String(n)} is not a whole number from 0`));

/**
 * The one file a write may touch. Only these five kinds of file exist for Portico; the interface
 * name is validated again here, because a plan can be built by hand, before it becomes part of a path.
 */
export const pathOf = (write: TuningWrite, roots: Roots): Result<string, AdapterError> =>
  match(write)
    .with({ kind: "rps_sock_flow_entries" }, () => ok(`${roots.procRoot}/sys/net/core/rps_sock_flow_entries`))
    .with({ kind: "irq_affinity" }, (w) =>
      index(w.irq, "IRQ").map((irq) => `${roots.procRoot}/irq/${irq}/smp_affinity_list`),
    )
    .with({ kind: "rps_cpus" }, { kind: "rps_flow_cnt" }, { kind: "xps_cpus" }, (w) =>
      parseInterfaceName(w.interface)
        .mapErr(bad)
        .andThen((name) =>
          index(w.queue, "queue").map(
            (q) => `${roots.sysRoot}/class/net/${name}/queues/${w.kind === "xps_cpus" ? "tx" : "rx"}-${q}/${w.kind}`,
          ),
        ),
    )
    .exhaustive();
