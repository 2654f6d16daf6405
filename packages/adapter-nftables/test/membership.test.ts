import { parseConfig, type LbNodeName } from "@portico/core";
import { aConfig, aNode, aService, planOf } from "@portico/core/testing";
import { describe, expect, it } from "vitest";
import { spillSize } from "../src/_view.js";
import { readNftablesState, renderNftables, renderNftablesMembership } from "../src/index.js";

// Health verdicts are per check backend: one Service's failing check leaves its own table only.

const node = "lb1" as LbNodeName;
const config = parseConfig(
  aConfig({ lbNodes: [{ name: "lb1", address: "198.18.0.1", interface: "eth0" }] }),
)._unsafeUnwrap();
const local = (name: string, port: number) =>
  aService({
    name,
    policy: "Local",
    healthCheckNodePort: port + 2000,
    ports: [{ port: 53, nodePort: port, protocol: "UDP" }],
  });
const plan = planOf(
  [
    aNode("n1", "198.18.1.1"),
    aNode("n2", "198.18.1.2"),
    aNode("n3", "198.18.1.3"),
    local("a", 30053),
    local("b", 30054),
  ],
  config,
);
const checkOf = (service: string): string => {
  const l = plan.l4Listeners!.find((x) => x.service === `default/${service}`)!;
  return l.healthCheck.kind === "track" ? l.healthCheck.backend : "";
};
const sharesOf = (text: string) =>
  new Map(
    readNftablesState(text).listeners.map((l) => [
      l.id.split("_")[2],
      new Map(l.shares.map((s) => [s.target.split(" . ")[0], s.slots])),
    ]),
  );

describe("membership by check", () => {
  it("listeners of two Services with the same nodes keep tables of their own", () => {
    const tables = readNftablesState(renderNftables(plan, { node })._unsafeUnwrap()).listeners.map((l) => l.table);
    expect(new Set(tables).size).toBe(2);
  });

  it("a node failing one Service's check leaves that Service's table only, in the ruleset and in the membership transaction", () => {
    const checkDown = new Map([[checkOf("a"), new Set(["n2"])]]);
    const full = sharesOf(renderNftables(plan, { node, checkDown })._unsafeUnwrap());
    expect(full.get("a")!.get("198.18.1.2")).toBe(0);
    expect(full.get("b")!.get("198.18.1.2")).toBeGreaterThan(0);
    const rules = renderNftables(plan, { node })._unsafeUnwrap();
    const membership = renderNftablesMembership(plan, { node, checkDown })._unsafeUnwrap();
    expect(membership).not.toMatch(/^\s*(add|delete) (rule|set|chain)/m);
    // The transaction touches no primary map, and its up_ sets and spill maps say what the full render says.
    expect(membership).not.toMatch(/ mg_[0-9a-f]{8}/);
    const blockOf = (name: string): number[] => {
      const lines = membership.split("\n");
      const at = lines.findIndex((l) => l.startsWith("add element") && l.includes(` ${name} {`));
      const end = lines.findIndex((l, i) => i > at && l.trim() === "}");
      return (
        lines
          .slice(at + 1, end)
          .join(" ")
          .match(/0x[0-9a-f]+/g) ?? []
      ).map(Number);
    };
    const tableOf = new Map(readNftablesState(rules).listeners.map((l) => [l.table, l.id.split("_")[2]]));
    for (const [table, svc] of tableOf) {
      const h = table.slice("mg_".length);
      // A node's mark is the low 32 bits of its address: 198.18.1.2.
      expect(blockOf(`up_${h}`).includes(0xc6120102)).toBe(svc !== "a");
      expect(blockOf(`sp_${h}`).includes(0xc6120102)).toBe(svc !== "a");
    }
  });
});

describe("marks", () => {
  const v6 = (name: string) =>
    aService({
      name,
      ipFamilies: ["IPv6"],
      annotations: { "portico.dev/data-plane": "direct" },
      ports: [{ port: 53, nodePort: 30053, protocol: "UDP" }],
    });
  /** Each node address's mark, as the ruleset's forwarding map names it. */
  const marksIn = (objects: readonly unknown[]): Map<string, string> => {
    const text = renderNftables(planOf(objects, config), { node })._unsafeUnwrap();
    return new Map([...text.matchAll(/(0x[0-9a-f]+) : ([0-9a-f.:]+[0-9a-f])\b/g)].map((m) => [m[2]!, m[1]!]));
  };

  it("an IPv4 node's mark is its address", () => {
    expect(marksIn([aNode("n1", "198.18.1.1"), local("a", 30053)]).get("198.18.1.1")).toBe("0xc6120101");
  });

  it("an IPv6 node keeps its mark when a node with its host part in another subnet joins", () => {
    const before = marksIn([aNode("n1", "2001:db8:1::5"), v6("a")]);
    // The node joining comes first by name and by address, so a mark taken in order would move n1's.
    const after = marksIn([aNode("m0", "2001:db8::5"), aNode("n1", "2001:db8:1::5"), v6("a")]);
    expect(before.get("2001:db8:1::5")).toBeDefined();
    expect(after.get("2001:db8:1::5")).toBe(before.get("2001:db8:1::5"));
    expect(after.get("2001:db8::5")).not.toBe(after.get("2001:db8:1::5"));
  });
});

describe("spill size", () => {
  it("is 8 slots a planned member, the smallest listed prime from 251 to 1021, so a verdict stays small", () => {
    expect([1, 3, 31, 32, 63, 64, 127, 128, 300].map(spillSize)).toEqual([
      251, 251, 251, 509, 509, 1021, 1021, 1021, 1021,
    ]);
  });
});
