import { readFile } from "node:fs/promises";
import type { Plan } from "@portico/core";

// HAProxy needs two file descriptors per connection (client and node side) plus its listeners,
// checks and sockets, and with an explicit `maxconn` it refuses to start when it cannot raise
// its open-files limit that far (`Cannot raise FD limit`), which a process without
// CAP_SYS_RESOURCE cannot beyond its hard limit. A reload onto such a file would fail every time.

// Descriptors kept for everything that is not a connection: listeners, checks, sockets, logs.
const RESERVE = 1_024;

/** The hard open-files limit of this process, from /proc/self/limits; undefined when unknown or unlimited. */
export const readFdHardLimit = async (): Promise<number | undefined> => {
  const text = await readFile("/proc/self/limits", "utf8").catch(() => "");
  const hard = /^Max open files\s+\S+\s+(\d+)/m.exec(text)?.[1];
  return hard === undefined ? undefined : Number(hard);
};

/** The largest `maxconn` a hard open-files limit lets HAProxy start with. */
export const maxconnFor = (hardLimit: number): number => Math.max(1, Math.floor((hardLimit - RESERVE) / 2));

/**
 * The plan with `settings.haproxy.maxconn` lowered to what the open-files hard limit allows (the
 * same plan when it fits or is unset). HAProxy run by systemd has the same default limit as
 * Portico; `portico doctor` warns when the configured value does not fit.
 */
export const fitMaxconn = (plan: Plan, hardLimit: number | undefined): Plan => {
  const configured = plan.settings.haproxy.maxconn;
  if (configured === undefined || hardLimit === undefined || configured <= maxconnFor(hardLimit)) return plan;
  return {
    ...plan,
    settings: { ...plan.settings, haproxy: { ...plan.settings.haproxy, maxconn: maxconnFor(hardLimit) } },
  };
};
