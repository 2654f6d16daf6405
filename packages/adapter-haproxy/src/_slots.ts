import { serverSlotCount, type Server } from "@portico/core";
import { formatEndpoint } from "./_format.js";
import type { SlotLine } from "./_installed.js";

/** How many slots a backend with `servers` servers gets when nothing is installed yet. */
export const freshSlotCount = serverSlotCount;

/**
 * What says an installed slot holds a server: equal keys (by default, the same address and port).
 * A key rather than a comparison, so placing n servers into n slots costs n lookups, not n².
 */
export interface SameServer {
  readonly slot: (slot: SlotLine) => string | undefined;
  readonly server: (server: Server) => string;
}

const sameEndpoint: SameServer = {
  slot: (slot) => slot.endpoint,
  server: (server) => formatEndpoint(server.address, server.port),
};

/**
 * The same node, whatever its address: the shared check backend's slots belong to nodes, so a
 * node that changes address keeps its slot (and every Cluster-policy backend's slot of that number).
 */
export const sameId: SameServer = { slot: (slot) => slot.id, server: (server) => server.id };

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
  // The enabled slots by key, in slot order: a server takes the first one of its key.
  const live = new Map<string, number[]>();
  installed.forEach((s, i) => {
    const key = s.enabled ? same.slot(s) : undefined;
    if (key === undefined) return;
    const list = live.get(key);
    if (list === undefined) live.set(key, [i]);
    else list.push(i);
  });
  const taken = new Map<string, number>();
  const waiting: Server[] = [];
  for (const server of servers) {
    const key = same.server(server);
    const list = live.get(key);
    const n = taken.get(key) ?? 0;
    if (list !== undefined && n < list.length) {
      slots[list[n]!] = server;
      taken.set(key, n + 1);
    } else waiting.push(server);
  }
  // Slots only fill, so the first free slot of each kind is found by a cursor that never moves back.
  const cursor = { false: 0, true: 0 };
  const free = (wasEnabled: boolean): number => {
    const k = String(wasEnabled) as "false" | "true";
    while (
      cursor[k] < installed.length &&
      (slots[cursor[k]] !== undefined || installed[cursor[k]]!.enabled !== wasEnabled)
    )
      cursor[k]++;
    return cursor[k] < installed.length ? cursor[k] : -1;
  };
  for (const server of waiting) {
    const unused = free(false);
    slots[unused >= 0 ? unused : free(true)] = server;
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
