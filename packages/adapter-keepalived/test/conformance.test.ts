import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ident, Ip, LbNode, LbNodeName, Millis, Plan, Vrid, VrrpInstance } from "@portico/core";
import { describeAdapter, program, type HostileCase } from "@portico/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { applyKeepalived, readKeepalivedState, renderKeepalived, validateKeepalived } from "../src/index.js";
import { emptyPlan, ipv6NodesPlan, singleNodePlan, typicalPlan } from "./fixtures.js";

const node = "lb1" as LbNodeName;
const base = typicalPlan();

const withInstance = (patch: Partial<VrrpInstance>): Plan => ({
  ...base,
  vrrpInstances: base.vrrpInstances.map((inst, i) => (i === 0 ? { ...inst, ...patch } : inst)),
});
const withNode = (index: number, patch: Partial<LbNode>): Plan => ({
  ...base,
  lbNodes: base.lbNodes.map((n, i) => (i === index ? { ...n, ...patch } : n)),
});
const withAdvertInt = (ms: number): Plan => ({
  ...base,
  settings: { ...base.settings, vrrp: { ...base.settings.vrrp, advertIntMs: ms as Millis } },
});
const ranked = (lbNode: string, priority: number): VrrpInstance["priorities"] => [
  { lbNode: lbNode as LbNodeName, priority },
];

// Strings a planner bug or a hand-built plan could smuggle in: each must be refused, and even if
// something rendered, the forbidden text must not reach the file.
const hostile: readonly HostileCase[] = [
  {
    title: "instance id closing the block",
    plan: withInstance({ id: "vi\n}\nvrrp_instance evil {" as Ident }),
    forbidden: ["evil"],
  },
  { title: "instance id with a space", plan: withInstance({ id: "vi 1" as Ident }), forbidden: ["vi 1"] },
  { title: "instance id with a comment", plan: withInstance({ id: "vi#x" as Ident }), forbidden: ["vi#x"] },
  { title: "instance id with quotes", plan: withInstance({ id: 'vi"x' as Ident }), forbidden: ['vi"x'] },
  {
    title: "VIP with options and a newline",
    plan: withInstance({ vips: ["198.18.100.10/32 dev lo\n" as Ip] }),
    forbidden: ["dev lo"],
  },
  {
    title: "VIP with a brace",
    plan: withInstance({ vips: ["198.18.100.10 }" as Ip] }),
    forbidden: ["198.18.100.10 }"],
  },
  {
    title: "VIP not in canonical form",
    plan: withInstance({ vips: ["198.018.100.10" as Ip] }),
    forbidden: ["198.018.100.10"],
  },
  {
    title: "VIP of the wrong family",
    plan: withInstance({ vips: ["2001:db8:100::b" as Ip] }),
    forbidden: ["2001:db8:100::b/32"],
  },
  {
    title: "peer address with a notify script",
    plan: withNode(1, { address: "198.18.1.2\n    notify_master /bin/evil" as Ip }),
    forbidden: ["/bin/evil"],
  },
  {
    title: "own address with a space",
    plan: withNode(0, { address: "198.18.1.1 198.18.9.9" as Ip }),
    forbidden: ["198.18.9.9"],
  },
  {
    title: "interface opening a block",
    plan: withNode(0, { interface: "eth0 }\nglobal_defs {\n    script_user root" }),
    forbidden: ["script_user"],
  },
  { title: "interface '..'", plan: withNode(0, { interface: ".." }), forbidden: ["dev .."] },
  {
    title: "interface longer than 15",
    plan: withNode(0, { interface: "eth0123456789abc" }),
    forbidden: ["eth0123456789abc"],
  },
  { title: "interface with quotes", plan: withNode(0, { interface: '"eth0"' }), forbidden: ['"eth0"'] },
  {
    title: "LB node name with a quote and comment",
    plan: withNode(2, { name: 'lb3"# x' as LbNodeName }),
    forbidden: ['lb3"'],
  },
  {
    title: "priority entry naming a script",
    plan: withInstance({ priorities: ranked("lb2\n}\nvrrp_script evil {", 150) }),
    forbidden: ["vrrp_script"],
  },
  {
    title: "priority 255 (address owner)",
    plan: withInstance({ priorities: ranked("lb1", 255) }),
    forbidden: ["priority 255"],
  },
  { title: "priority 0", plan: withInstance({ priorities: ranked("lb1", 0) }), forbidden: ["priority 0"] },
  { title: "fractional priority", plan: withInstance({ priorities: ranked("lb1", 1.5) }), forbidden: ["priority 1.5"] },
  { title: "priority NaN", plan: withInstance({ priorities: ranked("lb1", Number.NaN) }), forbidden: ["NaN"] },
  { title: "VRID 0", plan: withInstance({ vrid: 0 as Vrid }), forbidden: ["virtual_router_id 0"] },
  { title: "VRID 256", plan: withInstance({ vrid: 256 as Vrid }), forbidden: ["virtual_router_id 256"] },
  { title: "fractional VRID", plan: withInstance({ vrid: 1.5 as Vrid }), forbidden: ["virtual_router_id 1.5"] },
  { title: "unknown family", plan: withInstance({ family: 5 as 4 }), forbidden: [] },
  { title: "advert interval below centiseconds", plan: withAdvertInt(15), forbidden: ["advert_int 0.015"] },
  { title: "advert interval 0", plan: withAdvertInt(0), forbidden: ["advert_int 0\n"] },
];

// Well-formed values that still cannot become one keepalived.conf.
const unrenderable: readonly Plan[] = [
  { ...base, lbNodes: base.lbNodes.filter((n) => n.name !== node) },
  withNode(1, { address: "2001:db8:1::2" as Ip }),
  withNode(1, { name: "lb1" as LbNodeName }),
  withNode(1, { address: "198.18.1.1" as Ip }),
  withInstance({ vrid: base.vrrpInstances[1]!.vrid }),
  withInstance({ id: base.vrrpInstances[1]!.id }),
  withInstance({ vips: base.vrrpInstances[1]!.vips }),
  withInstance({ vips: [] }),
  withInstance({ priorities: [...ranked("lb1", 150), ...ranked("lb1", 100)] }),
];

// keepalived -t refuses an instance on an interface that does not exist where it runs; the empty
// plan's file names no interface, so it validates anywhere. apply validates first and so never
// installs (or starts keepalived on) what the tool refuses.
const noInterface = (): string => renderKeepalived(withNode(0, { interface: "nosuch0" }), { node })._unsafeUnwrap();
const dir = mkdtempSync(join(tmpdir(), "portico-keepalived-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keepalived = [program("keepalived", ["--version"])];

await describeAdapter<string>({
  name: "keepalived",
  render: (plan) => renderKeepalived(plan, { node }),
  emptyPlan,
  typicalPlans: () => [typicalPlan(), singleNodePlan(), ipv6NodesPlan()],
  hostile: () => hostile,
  unrenderable: () => [...hostile.map((c) => c.plan), ...unrenderable],
  validate: {
    requires: keepalived,
    validate: (text) => validateKeepalived(text, {}),
    accepted: () => [emptyPlan()],
    refused: () => [noInterface()],
  },
  apply: {
    requires: keepalived,
    apply: (text) =>
      applyKeepalived(text, { configPath: join(dir, "keepalived.conf"), pidFile: join(dir, "keepalived.pid") }),
    refused: () => [noInterface()],
  },
  read: readKeepalivedState,
});

describe("keepalived adapter refuses hostile plans", () => {
  for (const c of hostile) {
    it(`${c.title}: Err of kind render`, () => {
      const result = renderKeepalived(c.plan, { node });
      expect(result.isErr()).toBe(true);
      expect(result._unsafeUnwrapErr()).toMatchObject({ kind: "render", adapter: "keepalived" });
    });
  }

  it("does not echo hostile text raw into its error messages", () => {
    const message = renderKeepalived(hostile[0]!.plan, { node })._unsafeUnwrapErr().message;
    expect(message).not.toContain("\n");
    expect(message).toContain("\\n");
  });
});
