import { serverSlotCount, type Server } from "@portico/core";
import { formatEndpoint } from "./_format.js";
import type { SlotLine } from "./_installed.js";

/** How many slots a backend with `servers` servers gets when nothing is installed yet. */
export const freshSlotCount = serverSlotCount;

/** Whether an installed slot holds this server: by default, the same address and port. */
export type SameServer = (slot: SlotLine, server: Server) => boolean;

const sameEndpoint: SameServer = (slot, server) => slot.endpoint === formatEndpoint(server.address, server.port);

/**
 * The same node, whatever its address: the shared check backend's slots belong to nodes, so a
 * node that changes address keeps its slot (and every Cluster-policy backend's slot of that number).
 */
export const sameId: SameServer = (slot, server) => slot.id === server.id;

/**
 * Place a backend's servers into slots. With nothing installed (or too few slots installed) the
 * servers fill `slot1..` in plan order. Otherwise the installed slot count is kept and every
 * server already live stays in its slot, so a membership change touches only the slots that
 * change; new servers take slots that were empty before, then slots freed by this change.
 * Returns one entry per slot: the server, or undefined for an empty slot.
 */
export const layoutSlots = (
  servers: readonly Server[],
  installed: readonly SlotLine[] | undefined,
  same: SameServer = sameEndpoint,
): readonly (Server | undefined)[] => {
  const usable =
    installed !== undefined &&
    servers.length <= installed.length &&
    installed.every((s, i) => s.slot === `slot${i + 1}`);
  if (!usable) {
    const count = freshSlotCount(servers.length);
    return Array.from({ length: count }, (_, i) => servers[i]);
  }
  const slots: (Server | undefined)[] = installed.map(() => undefined);
  const waiting: Server[] = [];
  for (const server of servers) {
    const at = installed.findIndex((s, i) => s.enabled && same(s, server) && slots[i] === undefined);
    if (at >= 0) slots[at] = server;
    else waiting.push(server);
  }
  const free = (wasEnabled: boolean): number =>
    installed.findIndex((s, i) => slots[i] === undefined && s.enabled === wasEnabled);
  for (const server of waiting) {
    const at = free(false) >= 0 ? free(false) : free(true);
    slots[at] = server;
  }
  return slots;
};

/**
 * A Cluster-policy backend's slots, aligned with the check backend it tracks: slot N holds this
 * backend's server for the node in the check backend's slot N (the server whose `track` names that
 * node's check server), or stays empty when the node is not among this backend's servers (a
 * `maxBackendsPerService` subset, or no address of the backend's family). So a node joining,
 * leaving or moving changes slot N everywhere, through the runtime API.
 */
export const alignSlots = (
  servers: readonly Server[],
  checkSlots: readonly (Server | undefined)[],
): readonly (Server | undefined)[] => {
  const byTrack = new Map(servers.map((s) => [s.track, s]));
  return checkSlots.map((c) => (c === undefined ? undefined : byTrack.get(c.id)));
};
