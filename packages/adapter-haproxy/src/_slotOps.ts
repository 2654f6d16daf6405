import { err, ok, type Result } from "neverthrow";
import { parseIp, parsePort } from "@portico/core";
import type { Installed, SlotLine } from "./_installed.js";
import type { RuntimeCommand } from "./runtime.js";

const ENDPOINT = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([0-9]{1,5})$/;

/**
 * The runtime-API commands that turn the slots of `from` into those of `to`, for two files with
 * the same skeleton. A slot that gets a node is given its address with weight 0, taken out of
 * maintenance, marked down and only then given its weight: it gets traffic once its health check
 * has passed `rise` times, as after a reload, never before. A slot that loses its node goes to
 * maintenance, which lets its open connections finish.
 */
export const slotOps = (from: Installed, to: Installed): Result<readonly RuntimeCommand[], string> => {
  const ops: RuntimeCommand[] = [];
  for (const [backend, slots] of to.backends) {
    const before = from.backends.get(backend) ?? [];
    for (const [i, next] of slots.entries()) {
      const prev = before[i];
      const r = slotChange(backend, prev, next);
      if (r.isErr()) return err(r.error);
      ops.push(...r.value);
    }
  }
  return ok(ops);
};

const slotChange = (backend: string, prev: SlotLine | undefined, next: SlotLine): Result<readonly RuntimeCommand[], string> => {
  const server = next.slot;
  const wasLive = prev?.enabled === true;
  if (!next.enabled) return ok(wasLive ? [{ kind: "set-state", backend, server, state: "maint" }] : []);
  if (wasLive && prev.endpoint === next.endpoint) {
    return ok(prev.weight === next.weight ? [] : [{ kind: "set-weight", backend, server, weight: next.weight }]);
  }
  const m = ENDPOINT.exec(next.endpoint);
  const address = parseIp(m?.[1] ?? m?.[2] ?? "");
  const port = parsePort(Number(m?.[3]));
  if (m === null || address.isErr() || port.isErr()) return err(`${backend}/${server}: "${next.endpoint}" is not address:port`);
  return ok([
    ...(wasLive ? [{ kind: "set-state", backend, server, state: "maint" } as const] : []),
    { kind: "set-addr", backend, server, address: address.value, port: port.value },
    { kind: "set-weight", backend, server, weight: 0 },
    { kind: "set-state", backend, server, state: "ready" },
    { kind: "set-health", backend, server, health: "down" },
    { kind: "set-weight", backend, server, weight: next.weight },
  ]);
};
