import { describe, expect, it } from "vitest";
import { aNode, aParsedConfig, aService, planOf } from "@portico/core/testing";
import { formatCommand, renderHaproxy } from "@portico/adapter-haproxy";
import type { Plan } from "@portico/core";
import { readInstalled, type SlotLine } from "../src/_installed.js";
import { keepStates } from "../src/_serverState.js";
import { slotOps } from "../src/_slotOps.js";

// Cluster policy: the shared kube-proxy check backend has slots, and every Cluster-policy backend
// has the same slot numbers, each tracking the check slot of its number.

const node = (i: number, address = `198.18.2.${i}`) => aNode(`worker-${i}`, address);
const services = [
  aService({ name: "web", created: "2026-01-01T00:00:00Z" }),
  aService({ name: "api", created: "2026-01-02T00:00:00Z", ports: [{ name: "https", port: 443, nodePort: 30443 }] }),
];
const planWith = (nodes: readonly unknown[], max = 0): Plan =>
  planOf([...nodes, ...services], aParsedConfig({ maxBackendsPerService: max }));
const render = (p: Plan, previous?: string): string =>
  renderHaproxy(p, previous === undefined ? {} : { previous })._unsafeUnwrap();

const CHK = "chk_kube_proxy_813ce22b3232ecb1";
const checkSlots = (text: string): readonly SlotLine[] => readInstalled(text).backends.get(CHK) ?? [];
const clusterBackends = (text: string): [string, readonly SlotLine[]][] =>
  [...readInstalled(text).backends].filter(([b]) => b.startsWith("be_"));
// Which node (server id) each enabled slot holds, by slot name.
const nodesBySlot = (slots: readonly SlotLine[]): Record<string, string> =>
  Object.fromEntries(slots.filter((s) => s.enabled).map((s) => [s.slot, s.id ?? "?"]));

describe("aligned slots for Cluster policy", () => {
  it("gives the check backend slots with headroom, and every Cluster backend the same numbers tracking them", () => {
    const text = render(planWith([node(1), node(2), node(3)]));
    const chk = checkSlots(text);
    expect(chk).toHaveLength(8);
    expect(chk.slice(0, 4).map((s) => [s.slot, s.endpoint, s.enabled])).toEqual([
      ["slot1", "198.18.2.1:10256", true],
      ["slot2", "198.18.2.2:10256", true],
      ["slot3", "198.18.2.3:10256", true],
      ["slot4", "0.0.0.0:1", false],
    ]);
    const backends = clusterBackends(text);
    expect(backends).toHaveLength(2);
    for (const [backend, slots] of backends) {
      expect(
        slots.map((s) => s.track),
        backend,
      ).toEqual(chk.map((s) => `${CHK}/${s.slot}`));
      expect(nodesBySlot(slots)).toEqual(nodesBySlot(chk));
      expect(slots.filter((s) => s.enabled).map((s) => s.endpoint.split(":")[0])).toEqual([
        "198.18.2.1",
        "198.18.2.2",
        "198.18.2.3",
      ]);
    }
    expect(text).toContain(`    server slot1 198.18.2.1:30080 weight 1 track ${CHK}/slot1 # `);
    expect(text).toContain(`    server slot8 0.0.0.0:1 weight 0 disabled track ${CHK}/slot8\n`);
  });

  it("keeps every node in its slot when a node joins, leaves or changes address, so the file's shape stays (no reload)", () => {
    const first = render(planWith([node(1), node(2), node(3)]));
    const joined = render(planWith([node(1), node(2), node(3), node(4)]), first);
    const left = render(planWith([node(2), node(3), node(4)]), joined);
    const moved = render(planWith([node(2), node(3, "198.18.3.3"), node(4)]), left);
    const backAgain = render(planWith([node(1), node(2), node(3, "198.18.3.3"), node(4)]), moved);
    for (const text of [joined, left, moved, backAgain])
      expect(readInstalled(text).skeleton).toBe(readInstalled(first).skeleton);
    const ids = nodesBySlot(checkSlots(first));
    expect(nodesBySlot(checkSlots(joined))).toEqual({ ...ids, slot4: expect.stringMatching(/^node_worker_4_/) });
    expect(nodesBySlot(checkSlots(left))).toEqual({
      slot2: ids["slot2"],
      slot3: ids["slot3"],
      slot4: expect.stringMatching(/^node_worker_4_/),
    });
    // The same node at a new address keeps its slot.
    expect(checkSlots(moved)[2]).toMatchObject({ slot: "slot3", endpoint: "198.18.3.3:10256", id: ids["slot3"] });
    // A returning node takes the first slot that is empty in the installed file.
    expect(nodesBySlot(checkSlots(backAgain))["slot1"]).toMatch(/^node_worker_1_/);
    for (const text of [joined, left, moved, backAgain]) {
      for (const [, slots] of clusterBackends(text)) expect(nodesBySlot(slots)).toEqual(nodesBySlot(checkSlots(text)));
    }
  });

  it("turns a node joining into check-slot commands first and tracking-slot commands after, never a health change on a tracking slot", () => {
    const first = render(planWith([node(1), node(2), node(3)]));
    const joined = render(planWith([node(1), node(2), node(3), node(4)]), first);
    const ops = slotOps(readInstalled(first), readInstalled(joined))
      ._unsafeUnwrap()
      .map((o) => formatCommand(o)._unsafeUnwrap());
    const [api, web] = clusterBackends(joined).map(([b]) => b);
    expect(api).toMatch(/^be_default_api_/);
    expect(ops.slice(0, 5)).toEqual([
      `set server ${CHK}/slot4 addr 198.18.2.4 port 10256`,
      `set server ${CHK}/slot4 weight 0`,
      `set server ${CHK}/slot4 state ready`,
      `set server ${CHK}/slot4 health down`,
      `set server ${CHK}/slot4 weight 1`,
    ]);
    expect(ops.slice(5).sort()).toEqual(
      [
        ...[api, web].flatMap((b) => [
          `set server ${b}/slot4 addr 198.18.2.4 port ${b === api ? 30443 : 30080}`,
          `set server ${b}/slot4 weight 1`,
          `set server ${b}/slot4 state ready`,
        ]),
      ].sort(),
    );
    expect(ops.filter((o) => o.includes(" health ") && !o.startsWith(`set server ${CHK}/`))).toEqual([]);
  });

  it("puts a leaving node's tracking slots in maintenance before its check slot, and moves an address in place", () => {
    const first = render(planWith([node(1), node(2), node(3)]));
    const left = render(planWith([node(1), node(3)]), first);
    const ops = slotOps(readInstalled(first), readInstalled(left))
      ._unsafeUnwrap()
      .map((o) => formatCommand(o)._unsafeUnwrap());
    expect(ops).toHaveLength(3);
    expect(ops.at(-1)).toBe(`set server ${CHK}/slot2 state maint`);
    for (const o of ops) expect(o).toMatch(/\/slot2 state maint$/);

    const moved = render(planWith([node(1), node(2, "198.18.3.2"), node(3)]), first);
    const m = slotOps(readInstalled(first), readInstalled(moved))
      ._unsafeUnwrap()
      .map((o) => formatCommand(o)._unsafeUnwrap());
    const web = clusterBackends(moved)
      .map(([b]) => b)
      .find((b) => b.startsWith("be_default_web_"))!;
    expect(m.indexOf(`set server ${web}/slot2 state maint`)).toBeLessThan(
      m.indexOf(`set server ${CHK}/slot2 health down`),
    );
    expect(m.indexOf(`set server ${CHK}/slot2 health down`)).toBeLessThan(
      m.indexOf(`set server ${web}/slot2 state ready`),
    );
    expect(m).toContain(`set server ${web}/slot2 addr 198.18.3.2 port 30080`);
  });

  it("with maxBackendsPerService, each Cluster backend fills only its subset's slots, and the rest stay in maintenance", () => {
    const nodes = [1, 2, 3, 4, 5, 6].map((i) => node(i));
    const text = render(planWith(nodes, 2));
    const chk = checkSlots(text);
    const used = clusterBackends(text).map(([backend, slots]) => {
      expect(slots, backend).toHaveLength(chk.length);
      const inUse = slots.filter((s) => s.enabled);
      expect(inUse, backend).toHaveLength(2);
      // Each used slot holds the node its check slot holds.
      for (const s of inUse) expect(s.id).toBe(chk.find((c) => c.slot === s.slot)?.id);
      return inUse.map((s) => s.slot);
    });
    // The check backend checks the nodes some subset uses, once each.
    expect(
      chk
        .filter((s) => s.enabled)
        .map((s) => s.slot)
        .sort(),
    ).toEqual([...new Set(used.flat())].sort());
    expect(chk.filter((s) => s.enabled).length).toBeGreaterThan(2);
    // A seventh node joins: subsets change by slot, in place.
    const grown = render(planWith([...nodes, node(7)], 2), text);
    expect(readInstalled(grown).skeleton).toBe(readInstalled(text).skeleton);
  });

  it("refuses two servers of one Cluster backend that track the same check server, naming the Service", () => {
    const p = planWith([node(1), node(2)]);
    const backends = p.backends.map((b) =>
      b.service === "default/web"
        ? { ...b, servers: b.servers.map((s) => ({ ...s, track: b.servers[0]!.track! })) }
        : b,
    );
    const r = renderHaproxy({ ...p, backends }, {});
    expect(r._unsafeUnwrapErr()).toMatchObject({ kind: "render", service: "default/web" });
    expect(r._unsafeUnwrapErr().message).toMatch(/server track "node_worker_1_[0-9a-f]{16}" appears more than once/);
  });

  it("grows every Cluster backend with the check backend (a new shape, so a reload) only when the nodes outgrow the slots", () => {
    const seven = Array.from({ length: 7 }, (_, i) => node(i + 1));
    const first = render(planWith(seven));
    const eight = render(planWith([...seven, node(8)]), first);
    const nine = render(planWith([...seven, node(8), node(9)]), eight);
    expect(readInstalled(eight).skeleton).toBe(readInstalled(first).skeleton);
    expect(readInstalled(nine).skeleton).not.toBe(readInstalled(first).skeleton);
    expect(checkSlots(nine)).toHaveLength(16);
    for (const [, slots] of clusterBackends(nine)) expect(slots).toHaveLength(16);
  });

  it("carries check slots' health over a reload, but not tracking slots' (HAProxy passes the check's state on)", () => {
    const text = render(planWith([node(1), node(2)]));
    const web = clusterBackends(text)
      .map(([b]) => b)
      .find((b) => b.startsWith("be_default_web_"))!;
    const header =
      "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port";
    const row = (be: string, slot: string, addr: string, admin: string, p: number) =>
      `3 ${be} 1 ${slot} ${addr} 0 ${admin} 1 1 7 8 2 0 6 0 0 0 - ${p} - 0 0 - - 0`;
    const dump = [
      "1",
      header,
      row(web!, "slot1", "198.18.2.1", "0", 30080),
      row(CHK, "slot1", "198.18.2.1", "0", 10256),
      row(CHK, "slot2", "198.18.2.2", "4", 10256),
      row(CHK, "slot3", "0.0.0.0", "5", 1),
      "",
    ].join("\n");
    // slot2 was filled through the runtime API (admin state 4: disabled in the file it started from).
    expect(keepStates(dump, readInstalled(text))).toBe(
      `1\n${header}\n${row(CHK, "slot1", "198.18.2.1", "0", 10256)}\n${row(CHK, "slot2", "198.18.2.2", "4", 10256)}\n`,
    );
  });
});
