import { describe, expect, it } from "vitest";
import { formatCommand, parseShowStat, readLayout, serverState } from "../src/index.js";

// Columns as HAProxy 2.6 prints them, trimmed to the ones read plus a few around them; the parser
// finds columns by name, so order and extra columns do not matter.
const CSV = [
  "# pxname,svname,scur,status,weight,tracked,type,check_status,check_code,check_duration,addr,extra",
  "fe_a,FRONTEND,3,OPEN,,,0,,,,,x",
  "be_a,slot1,2,UP 1/2,5,,2,* L7OK,200,4,198.18.2.11:30080,x",
  "be_a,slot2,0,MAINT (via chk/x),0,chk/x,2,,,,[2001:db8::2]:30080,x",
  "be_a,slot3,0,UP,5,,2,* L7OK,0,,198.18.2.13:30080,x",
  "be_a,BACKEND,2,UP,5,,1,,,,,x",
  "",
].join("\n");

describe("show stat", () => {
  it("parses frontends and servers by column name, with checks and addresses", () => {
    const rows = parseShowStat(CSV)._unsafeUnwrap();
    expect(rows.map((r) => [r.proxy, r.name, r.type])).toEqual([
      ["fe_a", "FRONTEND", "frontend"],
      ["be_a", "slot1", "server"],
      ["be_a", "slot2", "server"],
      ["be_a", "slot3", "server"],
      ["be_a", "BACKEND", "backend"],
    ]);
    expect(rows[1]).toEqual({
      proxy: "be_a",
      name: "slot1",
      type: "server",
      status: "UP 1/2",
      state: "UP",
      weight: 5,
      sessions: 2,
      check: { status: "L7OK", code: 200, durationMs: 4 },
      address: "198.18.2.11:30080",
    });
    expect(rows[2]).toMatchObject({ state: "MAINT", tracks: "chk/x", address: "[2001:db8::2]:30080" });
    expect(rows[2]?.check).toBeUndefined();
    // A check in progress may show code 0: no code rather than a false one.
    expect(rows[3]?.check).toEqual({ status: "L7OK" });
  });

  it("refuses an answer that is not show stat", () => {
    expect(parseShowStat("Unknown command.\n").isErr()).toBe(true);
  });

  it("folds HAProxy's status texts into four states", () => {
    expect(
      ["UP", "UP 1/2", "no check", "DOWN", "DOWN 1/2", "NOLB", "DRAIN", "MAINT", "MAINT (resolution)"].map(serverState),
    ).toEqual(["UP", "UP", "UP", "DOWN", "DOWN", "DRAIN", "DRAIN", "MAINT", "MAINT"]);
  });

  it("is a fixed command of the closed set", () => {
    expect(formatCommand({ kind: "show-stat" })._unsafeUnwrap()).toBe("show stat");
  });
});

describe("readLayout", () => {
  it("reads binds, backends, slot comments and tracking servers; keeps empty slots marked", () => {
    const layout = readLayout(
      [
        "frontend fe_a",
        "    bind [2001:db8:100::1]:443 transparent",
        "    default_backend be_a",
        "",
        "backend be_a",
        "    server slot1 198.18.2.11:30080 weight 5 # node_w1_0c4d2e7a",
        "    server slot2 0.0.0.0:1 weight 0 disabled",
        "    server node_w2_1234abcd 198.18.2.12:30080 weight 1 track chk_x/node_w2_1234abcd",
      ].join("\n"),
    );
    expect(layout.frontends).toEqual([
      { id: "fe_a", binds: [{ address: "2001:db8:100::1", port: 443 }], backend: "be_a" },
    ]);
    expect(layout.backends.get("be_a")).toEqual([
      { name: "slot1", id: "node_w1_0c4d2e7a", endpoint: "198.18.2.11:30080", weight: 5, enabled: true },
      { name: "slot2", id: "slot2", endpoint: "0.0.0.0:1", weight: 0, enabled: false },
      {
        name: "node_w2_1234abcd",
        id: "node_w2_1234abcd",
        endpoint: "198.18.2.12:30080",
        weight: 1,
        enabled: true,
        tracks: "chk_x/node_w2_1234abcd",
      },
    ]);
  });
});
