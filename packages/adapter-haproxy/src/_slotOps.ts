import { err, ok, type Result } from "neverthrow";
import { parseEndpoint } from "./_format.js";
import type { Installed, SlotLine } from "./_installed.js";
import type { RuntimeCommand } from "./runtime.js";

/**
 * The runtime-API commands that turn the slots of `from` into those of `to`, for two files with
 * the same skeleton. A slot that gets a node is given its address with weight 0, taken out of
 * maintenance, marked down and only then given its weight: it gets traffic once its health check
 * has passed `rise` times, as after a reload, never before. A slot that loses its node goes to
 * maintenance, which lets its open connections finish.
 *
 * Cluster-policy slots track the check backend's slot of the same number, and HAProxy refuses
 * `set server ... health` on a tracking server: their state is the check's. So the commands come
 * in three rounds: tracking slots that lose (or change) their node go to maintenance first; then
 * every slot with its own check changes (the check backend's among them: a new node's check slot
 * is marked down before anything follows it); last, tracking slots get their new address and
 * weight and leave maintenance, taking on the check's state, down until its checks pass.
 */
export const slotOps = (from: Installed, to: Installed): Result<readonly RuntimeCommand[], string> => {
  const first: RuntimeCommand[] = [];
  const middle: RuntimeCommand[] = [];
  const last: RuntimeCommand[] = [];
  for (const [backend, slots] of to.backends) {
    const before = from.backends.get(backend) ?? [];
    for (const [i, next] of slots.entries()) {
      const r = slotChange(backend, before[i], next);
      if (r.isErr()) return err(r.error);
      if (next.track === undefined) middle.push(...r.value.leave, ...r.value.join);
      else {
        first.push(...r.value.leave);
        last.push(...r.value.join);
      }
    }
  }
  return ok([...first, ...middle, ...last]);
};

const slotChange = (
  backend: string,
  prev: SlotLine | undefined,
  next: SlotLine,
): Result<{ leave: readonly RuntimeCommand[]; join: readonly RuntimeCommand[] }, string> => {
  const server = next.slot;
  const wasLive = prev?.enabled === true;
  const maint: readonly RuntimeCommand[] = wasLive ? [{ kind: "set-state", backend, server, state: "maint" }] : [];
  if (!next.enabled) return ok({ leave: maint, join: [] });
  if (wasLive && prev.endpoint === next.endpoint) {
    return ok({
      leave: [],
      join: prev.weight === next.weight ? [] : [{ kind: "set-weight", backend, server, weight: next.weight }],
    });
  }
  const target = parseEndpoint(next.endpoint);
  if (target === undefined) return err(`${backend}/${server}: "${next.endpoint}" is not address:port`);
  const addr: RuntimeCommand = { kind: "set-addr", backend, server, address: target.address, port: target.port };
  if (next.track !== undefined) {
    return ok({
      leave: maint,
      join: [
        addr,
        { kind: "set-weight", backend, server, weight: next.weight },
        { kind: "set-state", backend, server, state: "ready" },
      ],
    });
  }
  return ok({
    leave: maint,
    join: [
      addr,
      { kind: "set-weight", backend, server, weight: 0 },
      { kind: "set-state", backend, server, state: "ready" },
      { kind: "set-health", backend, server, health: "down" },
      { kind: "set-weight", backend, server, weight: next.weight },
    ],
  });
};
