import { describe, expect, it } from "vitest";
import type { Backend, Plan } from "@portico/core";
import { formatCommand, parseShowProc, renderHaproxy, type RuntimeCommand } from "@portico/adapter-haproxy";
import { readInstalled } from "../src/_installed.js";
import { freshSlotCount, layoutSlots } from "../src/_slots.js";
import { slotOps } from "../src/_slotOps.js";
import { ident, ip, port, typicalPlan } from "./fixtures.js";

// The web backend of the typical plan (IPv4), with its servers replaced.
const withServers = (servers: readonly { node: string; address: string; weight?: number }[]): Plan => {
  const plan = typicalPlan();
  const backends = plan.backends.map((b): Backend =>
    b.id === "be_default_web_80_4_2c8e5f71"
      ? {
          ...b,
          servers: servers.map((s) => ({
            id: ident(`srv_${s.node}`),
            node: s.node as Backend["servers"][number]["node"],
            address: ip(s.address),
            port: port(30080),
            weight: s.weight ?? 100,
          })),
        }
      : b,
  );
  return { ...plan, backends };
};
const slotsOf = (text: string) => readInstalled(text).backends.get("be_default_web_80_4_2c8e5f71") ?? [];
const three = [
  { node: "a", address: "198.18.0.11" },
  { node: "b", address: "198.18.0.12" },
  { node: "c", address: "198.18.0.13" },
];

describe("server slots", () => {
  it("gives every backend at least one spare slot, in blocks of eight", () => {
    expect([0, 1, 7, 8, 9, 15, 16].map(freshSlotCount)).toEqual([8, 8, 8, 16, 16, 16, 24]);
  });

  it("keeps live servers in their slots when one leaves and another joins", () => {
    const first = renderHaproxy(withServers(three), {})._unsafeUnwrap();
    const next = renderHaproxy(withServers([three[0]!, three[2]!, { node: "d", address: "198.18.0.14" }]), {
      previous: first,
    })._unsafeUnwrap();
    const slots = slotsOf(next);
    expect(slots.slice(0, 4).map((s) => [s.slot, s.endpoint, s.enabled])).toEqual([
      ["slot1", "198.18.0.11:30080", true],
      ["slot2", "0.0.0.0:1", false],
      ["slot3", "198.18.0.13:30080", true],
      // A slot that was empty before, not the one just freed (its connections are draining).
      ["slot4", "198.18.0.14:30080", true],
    ]);
    expect(readInstalled(next).skeleton).toBe(readInstalled(first).skeleton);
    expect(readInstalled(next).generation).toBe(readInstalled(first).generation);
  });

  it("grows the slot count (a new skeleton, so a reload) only when the servers no longer fit", () => {
    const nine = Array.from({ length: 9 }, (_, i) => ({ node: `n${i}`, address: `198.18.0.${20 + i}` }));
    const first = renderHaproxy(withServers(three), {})._unsafeUnwrap();
    const next = renderHaproxy(withServers(nine), { previous: first })._unsafeUnwrap();
    expect(slotsOf(next).length).toBe(16);
    expect(readInstalled(next).skeleton).not.toBe(readInstalled(first).skeleton);
  });

  it("lays out positionally when the previous file is not one Portico rendered", () => {
    const slots = layoutSlots(withServers(three).backends[0]!.servers, [
      { backend: "x", slot: "slot7", endpoint: "198.18.0.11:30080", weight: 1, enabled: true },
    ]);
    expect(slots.length).toBe(8);
    expect(slots.slice(0, 3).map((s) => s?.address)).toEqual(["198.18.0.11", "198.18.0.12", "198.18.0.13"]);
  });

  it("turns slot changes into runtime commands: weight, leave, join (checked before traffic)", () => {
    const first = renderHaproxy(withServers(three), {})._unsafeUnwrap();
    const next = renderHaproxy(
      withServers([{ ...three[0]!, weight: 5 }, three[2]!, { node: "d", address: "198.18.0.14", weight: 7 }]),
      { previous: first },
    )._unsafeUnwrap();
    const ops = slotOps(readInstalled(first), readInstalled(next))._unsafeUnwrap();
    const text = ops.map((o) => formatCommand(o)._unsafeUnwrap());
    const be = "be_default_web_80_4_2c8e5f71";
    expect(text).toEqual([
      `set server ${be}/slot1 weight 5`,
      `set server ${be}/slot2 state maint`,
      `set server ${be}/slot4 addr 198.18.0.14 port 30080`,
      `set server ${be}/slot4 weight 0`,
      `set server ${be}/slot4 state ready`,
      `set server ${be}/slot4 health down`,
      `set server ${be}/slot4 weight 7`,
    ]);
    expect(slotOps(readInstalled(next), readInstalled(next))._unsafeUnwrap()).toEqual([]);
  });

  it("stamps the generation into global's description, and it ignores server contents only", () => {
    const text = renderHaproxy(withServers(three), {})._unsafeUnwrap();
    expect(text).toContain(`    description portico-${readInstalled(text).generation}\n`);
    const moved = renderHaproxy(
      { ...withServers(three), frontends: typicalPlan().frontends.slice(1) },
      {},
    )._unsafeUnwrap();
    expect(readInstalled(moved).generation).not.toBe(readInstalled(text).generation);
  });
});

describe("runtime API commands", () => {
  it("formats each command from checked fields", () => {
    expect(
      formatCommand({
        kind: "set-addr",
        backend: "be_x",
        server: "slot3",
        address: ip("2001:db8::1"),
        port: port(80),
      })._unsafeUnwrap(),
    ).toBe("set server be_x/slot3 addr 2001:db8::1 port 80");
    expect(formatCommand({ kind: "show-proc" })._unsafeUnwrap()).toBe("show proc");
  });

  it("refuses anything that could smuggle a second command", () => {
    const hostile: RuntimeCommand[] = [
      { kind: "set-weight", backend: "be_x; shutdown sessions", server: "slot1", weight: 1 },
      { kind: "set-weight", backend: "be_x", server: "slot1\nshow info", weight: 1 },
      { kind: "set-weight", backend: "be_x", server: "slot1", weight: 999 },
      { kind: "set-state", backend: "be_x", server: "slot1", state: "ready; disable frontend fe" as "ready" },
      { kind: "set-addr", backend: "be_x", server: "slot1", address: "1.2.3.4 port 1;" as never, port: port(80) },
      { kind: "set-health", backend: "be_x", server: "slot1", health: "down\n" as "down" },
    ];
    for (const c of hostile) expect(formatCommand(c).isErr(), JSON.stringify(c)).toBe(true);
  });

  it("reads the master CLI's show proc", () => {
    const text = [
      "#<PID>          <type>          <reloads>       <uptime>        <version>",
      "24029           master          2 [failed: 1]   0d00h00m24s     2.6.12-1+deb12u4",

      "# workers",
      "24751           worker          0               0d00h00m08s     2.6.12-1+deb12u4",
      "24700           worker          1               0d00h00m20s     2.6.12-1+deb12u4",
      "# programs",
    ].join("\n");
    expect(parseShowProc(text)).toEqual({
      reloads: 2,
      failed: 1,
      workers: [
        { pid: 24751, reloads: 0, uptimeS: 8 },
        { pid: 24700, reloads: 1, uptimeS: 20 },
      ],
    });
    expect(parseShowProc("Unknown command")).toBeUndefined();
  });
});

describe("server states across a reload", () => {
  it("keeps only servers that stay exactly as they are, and not in maintenance", async () => {
    const { EMPTY_STATES, keepStates } = await import("../src/_serverState.js");
    const next = readInstalled(
      renderHaproxy(withServers([three[0]!, { ...three[1]!, weight: 5 }, three[2]!]), {})._unsafeUnwrap(),
    );
    const be = "be_default_web_80_4_2c8e5f71";
    const row = (slot: string, addr: string, admin: string, weight: string) =>
      `3 ${be} 1 ${slot} ${addr} 0 ${admin} ${weight} 1 7 8 2 0 6 0 0 0 - 30080 - 0 32100 - - 32100`;
    const header =
      "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";
    const dump = [
      "1",
      header,
      row("slot1", "198.18.0.11", "0", "100"),
      row("slot2", "198.18.0.12", "0", "100"),
      row("slot3", "198.18.0.99", "0", "100"),
      row("slot4", "0.0.0.0", "5", "0"),
      "",
    ].join("\n");
    // slot1 stays; slot2 changes weight; slot3 changes address; slot4 is an empty slot.
    expect(keepStates(dump, next)).toBe(`1\n${header}\n${row("slot1", "198.18.0.11", "0", "100")}\n`);
    // An answer that is not a dump loads nothing, in a file HAProxy reads without a warning.
    expect(keepStates("No such backend.", next)).toBe(EMPTY_STATES);
    expect(EMPTY_STATES.split("\n")[1]).toBe(header);
  });
});
