import type { Server } from "@portico/core";
import { formatEndpoint } from "./_format.js";
import type { SlotLine } from "./_installed.js";

/** How many slots a backend with `servers` servers gets when nothing is installed yet. */
export const freshSlotCount = (servers: number): number => 8 * Math.ceil((servers + 1) / 8);

/**
 * Place a backend's servers into slots. With nothing installed (or too few slots installed) the
 * servers fill `slot1..` in plan order. Otherwise the installed slot count is kept and every
 * server already live stays in its slot, so a membership change touches only the slots that
 * change; new servers take slots that were empty before, then slots freed by this change.
 * Returns one entry per slot: the server, or undefined for an empty slot.
 */
export const layoutSlots = (servers: readonly Server[], installed: readonly SlotLine[] | undefined): readonly (Server | undefined)[] => {
  const usable = installed !== undefined && servers.length <= installed.length && installed.every((s, i) => s.slot === `slot${i + 1}`);
  if (!usable) {
    const count = freshSlotCount(servers.length);
    return Array.from({ length: count }, (_, i) => servers[i]);
  }
  const slots: (Server | undefined)[] = installed.map(() => undefined);
  const waiting: Server[] = [];
  for (const server of servers) {
    const endpoint = formatEndpoint(server.address, server.port);
    const at = installed.findIndex((s, i) => s.enabled && s.endpoint === endpoint && slots[i] === undefined);
    if (at >= 0) slots[at] = server;
    else waiting.push(server);
  }
  const free = (wasEnabled: boolean): number => installed.findIndex((s, i) => slots[i] === undefined && s.enabled === wasEnabled);
  for (const server of waiting) {
    const at = free(false) >= 0 ? free(false) : free(true);
    slots[at] = server;
  }
  return slots;
};
