import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ResultAsync } from "neverthrow";
import type { AdapterError, Cidr, Ident, Ip, L4Listener, LbNode, LbNodeName, Plan, Server } from "@portico/core";
import { describeAdapter, program, root, type HostileCase } from "@portico/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { applyNftables, readNftablesState, renderNftables, validateNftables } from "../src/index.js";
import { removeScratch, scratchNetns } from "./_scratch.js";
import { emptyPlan, pinnedPlan, sctpPlan, typicalPlan } from "./fixtures.js";

const node = "lb1" as LbNodeName;
const base = typicalPlan();

const withListener = (patch: Partial<Record<keyof L4Listener, unknown>>): Plan => ({
  ...base,
  l4Listeners: (base.l4Listeners ?? []).map((l, i) => (i === 0 ? ({ ...l, ...patch } as L4Listener) : l)),
});
const withServer = (patch: Partial<Record<keyof Server, unknown>>): Plan => {
  const first = base.l4Listeners![0]!;
  return withListener({ servers: first.servers.map((s, i) => (i === 0 ? { ...s, ...patch } : s)) });
};
const withNode = (patch: Partial<LbNode>): Plan => ({
  ...base,
  lbNodes: base.lbNodes.map((n, i) => (i === 0 ? { ...n, ...patch } : n)),
});

// Strings a planner bug or a hand-built plan could smuggle into the ruleset: each is refused.
const hostile: readonly HostileCase[] = [
  {
    title: "id closing the comment",
    plan: withListener({ id: 'x" accept comment "y' as Ident }),
    forbidden: ["accept"],
  },
  { title: "id with a newline", plan: withListener({ id: "x\ntable ip evil {}" as Ident }), forbidden: ["evil"] },
  {
    title: "VIP with a rule after it",
    plan: withListener({ vip: "198.18.100.10 accept" as Ip }),
    forbidden: ["accept"],
  },
  { title: "VIP not canonical", plan: withListener({ vip: "198.018.100.10" as Ip }), forbidden: ["198.018"] },
  { title: "VIP of the other family", plan: withListener({ vip: "2001:db8:100::9" as Ip }), forbidden: ["::9"] },
  { title: "protocol icmp", plan: withListener({ protocol: "ICMP" }), forbidden: ["icmp"] },
  { title: "port 0", plan: withListener({ port: 0 }), forbidden: ["dport 0 "] },
  { title: "port as text", plan: withListener({ port: "53 accept" }), forbidden: ["accept"] },
  { title: "mode masquerade", plan: withListener({ mode: "masquerade" }), forbidden: [] },
  { title: "table size 1e9", plan: withListener({ tableSize: 1e9 }), forbidden: ["1000000000"] },
  {
    title: "source range with a set",
    plan: withListener({ sourceRanges: ["198.18.50.0/24 } ; flush ruleset" as Cidr] }),
    forbidden: ["flush ruleset"],
  },
  {
    title: "server address with a device",
    plan: withServer({ address: '198.18.2.1 device "lo"' }),
    forbidden: ['"lo"'],
  },
  { title: "server port 70000", plan: withServer({ port: 70000 }), forbidden: ["70000"] },
  { title: "server weight NaN", plan: withServer({ weight: Number.NaN }), forbidden: ["NaN"] },
  { title: "server node empty", plan: withServer({ node: "" }), forbidden: [] },
  { title: "interface with a quote", plan: withNode({ interface: 'eth0" priority 0' }), forbidden: ["priority 0"] },
  { title: "interface too long", plan: withNode({ interface: "eth0123456789abc" }), forbidden: ["eth0123456789abc"] },
];

const unrenderable: readonly Plan[] = [
  { ...base, lbNodes: base.lbNodes.filter((n) => n.name !== node) },
  { ...base, l4Listeners: [base.l4Listeners![0]!, { ...base.l4Listeners![0]!, id: "other" as Ident }] },
];

const dir = mkdtempSync(join(tmpdir(), "portico-nftables-conformance-"));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await removeScratch();
});
const nft = [root, program("nft", ["--version"])];
const inScratch = <T>(f: (netns: string) => ResultAsync<T, AdapterError>) =>
  ResultAsync.fromSafePromise(scratchNetns()).andThen(f);
// nft refuses a netdev chain on a device that does not exist.
const noDevice = (): string => renderNftables(withNode({ interface: "nosuch0" }), { node })._unsafeUnwrap();
const brokenSyntax = (): string => `${renderNftables(typicalPlan(), { node })._unsafeUnwrap()}chain nowhere {\n`;

await describeAdapter<string>({
  name: "nftables",
  render: (plan) => renderNftables(plan, { node }),
  emptyPlan,
  typicalPlans: () => [typicalPlan(), sctpPlan(), pinnedPlan()],
  hostile: () => hostile,
  unrenderable: () => [...hostile.map((c) => c.plan), ...unrenderable],
  validate: {
    requires: nft,
    validate: (text) => inScratch((netns) => validateNftables(text, { netns })),
    refused: () => [noDevice(), brokenSyntax()],
  },
  apply: {
    requires: nft,
    apply: (text) => inScratch((netns) => applyNftables(text, { netns, configPath: join(dir, "nftables.conf") })),
    accepted: () => [renderNftables(typicalPlan(), { node })._unsafeUnwrap()],
    refused: () => [noDevice(), brokenSyntax()],
  },
  read: readNftablesState,
});

describe("nftables adapter refuses hostile plans", () => {
  for (const c of hostile) {
    it(`${c.title}: Err of kind render`, () => {
      const result = renderNftables(c.plan, { node });
      expect(result.isErr()).toBe(true);
      expect(result._unsafeUnwrapErr()).toMatchObject({ kind: "render", adapter: "nftables" });
    });
  }
});
