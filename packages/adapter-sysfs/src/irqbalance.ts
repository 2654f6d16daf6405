import { readdir, readFile } from "node:fs/promises";
import { ResultAsync } from "neverthrow";
import type { AdapterError } from "@portico/core";

/**
 * Whether an irqbalance process is running (a `<procRoot>/<pid>/comm` that says so). irqbalance
 * moves interrupts on its own schedule and may undo pinned IRQ affinity unless told to ban them.
 */
export const irqbalanceRunning = (procRoot: string): ResultAsync<boolean, AdapterError> =>
  ResultAsync.fromPromise(
    (async () => {
      for (const entry of await readdir(procRoot)) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          if ((await readFile(`${procRoot}/${entry}/comm`, "utf8")).trim() === "irqbalance") return true;
        } catch {
          // the process ended while we looked
        }
      }
      return false;
    })(),
    (e): AdapterError => ({
      kind: "io",
      adapter: "sysfs",
      message: `listing processes in ${procRoot}: ${(e as Error).message}`,
    }),
  );
