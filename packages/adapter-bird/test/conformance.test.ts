import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BgpAnnouncement, BgpPeer, Ip, LbNode, LbNodeName, Plan } from "@portico/core";
import { describeAdapter, program, type HostileCase } from "@portico/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { applyBird, readBirdProtocols, renderBird, validateBird } from "../src/index.js";
import { drainingPlan, emptyPlan, noBgpPlan, richPlan, typicalPlan } from "./fixtures.js";

const node = "lb1" as LbNodeName;
const base = typicalPlan();
const bgp = base.settings.bgp!;

const withPeer = (patch: Partial<Record<keyof BgpPeer, unknown>>): Plan => ({
  ...base,
  settings: { ...base.settings, bgp: { ...bgp, peers: [{ ...bgp.peers[0]!, ...patch } as BgpPeer] } },
});
const withBgp = (patch: Record<string, unknown>): Plan => ({
  ...base,
  settings: { ...base.settings, bgp: { ...bgp, ...patch } as typeof bgp },
});
const withAnnouncement = (patch: Partial<Record<keyof BgpAnnouncement, unknown>>): Plan => ({
  ...base,
  announcements: base.announcements!.map((a, i) => (i === 0 ? ({ ...a, ...patch } as BgpAnnouncement) : a)),
});
const withNode = (patch: Partial<Record<keyof LbNode, unknown>>): Plan => ({
  ...base,
  lbNodes: base.lbNodes.map((n, i) => (i === 0 ? ({ ...n, ...patch } as LbNode) : n)),
});

// Strings a planner bug or a hand-built plan could smuggle in: each must be refused, and even if
// something rendered, the forbidden text must not reach the file.
const hostile: readonly HostileCase[] = [
  {
    title: "peer address closing the protocol",
    plan: withPeer({ address: "198.18.1.254 as 1; };\nprotocol kernel evil {" }),
    forbidden: ["evil"],
  },
  { title: "peer address not canonical", plan: withPeer({ address: "198.018.1.254" }), forbidden: ["198.018"] },
  { title: "peer ASN as a string", plan: withPeer({ asn: "64500; export all" }), forbidden: ["export all"] },
  { title: "peer ASN 0", plan: withPeer({ asn: 0 }), forbidden: ["as 0;"] },
  { title: "local ASN too big", plan: withBgp({ asn: 2 ** 32 }), forbidden: [`${2 ** 32}`] },
  {
    title: "password file with a quote",
    plan: withPeer({ passwordFile: '/etc/x"; export all; "' }),
    forbidden: ["export all"],
  },
  { title: "password file relative", plan: withPeer({ passwordFile: "../../etc/shadow" }), forbidden: ["shadow"] },
  { title: "multihop as text", plan: withPeer({ multihop: "2; export all" }), forbidden: ["export all"] },
  { title: "hold time NaN", plan: withPeer({ holdTimeS: Number.NaN }), forbidden: ["NaN"] },
  {
    title: "BFD interval as text",
    plan: withPeer({ bfd: { enabled: true, intervalMs: "1 ms; }; protocol x {", multiplier: 3 } }),
    forbidden: ["protocol x"],
  },
  {
    title: "community with a filter statement",
    plan: withPeer({ communities: [{ kind: "standard", asn: "1, 2)); accept; #", value: 1 }] }),
    forbidden: ["accept; #"],
  },
  {
    title: "community out of range",
    plan: withPeer({ communities: [{ kind: "standard", asn: 70000, value: 1 }] }),
    forbidden: ["70000"],
  },
  { title: "local preference negative", plan: withPeer({ localPreference: -1 }), forbidden: ["= -1"] },
  {
    title: "VIP with a route option",
    plan: withAnnouncement({ vip: "198.18.100.10/32 via 198.18.9.9" }),
    forbidden: ["198.18.9.9"],
  },
  { title: "VIP of the wrong family", plan: withAnnouncement({ family: 6 }), forbidden: ["198.18.100.10/128"] },
  {
    title: "router id with a newline",
    plan: withNode({ routerId: "198.18.1.1;\nprotocol kernel k" }),
    forbidden: ["protocol kernel"],
  },
  { title: "router id IPv6", plan: withNode({ routerId: "2001:db8::1" }), forbidden: ["router id 2001"] },
  { title: "node address injected", plan: withNode({ address: "198.18.1.1 as 1" }), forbidden: ["198.18.1.1 as 1"] },
  {
    title: "LB node name with a brace",
    plan: { ...base, lbNodes: [{ ...base.lbNodes[0]!, name: "lb1 }" as LbNodeName }] },
    forbidden: ["lb1 }"],
  },
];

// Well-formed values that still cannot become one bird.conf.
const unrenderable: readonly Plan[] = [
  { ...base, lbNodes: base.lbNodes.filter((n) => n.name !== node) },
  withBgp({ peers: [bgp.peers[0]!, bgp.peers[0]!] }),
  withPeer({ keepaliveS: 9, holdTimeS: 9 }),
  withNode({ address: "2001:db8:1::1" as Ip }),
  { ...base, announcements: [base.announcements![0]!, base.announcements![0]!] },
];

// bird -p refuses a session without a neighbour ASN match... the simplest refusal: an include of a file that is not there.
const missingInclude = (): string =>
  renderBird(withPeer({ passwordFile: "/nonexistent/portico/peer.bird" }), { node })._unsafeUnwrap();
const dir = mkdtempSync(join(tmpdir(), "portico-bird-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bird = [program("bird", ["--version"])];

await describeAdapter<string>({
  name: "bird",
  render: (plan) => renderBird(plan, { node }),
  emptyPlan,
  typicalPlans: () => [typicalPlan(), richPlan(), drainingPlan(), noBgpPlan()],
  hostile: () => hostile,
  unrenderable: () => [...hostile.map((c) => c.plan), ...unrenderable],
  validate: {
    requires: bird,
    validate: (text) => validateBird(text, {}),
    accepted: () => [emptyPlan(), typicalPlan(), drainingPlan(), noBgpPlan()],
    refused: () => [missingInclude(), "protocol bgp x { neighbor 198.18.1.254 as 64500; }\n"],
  },
  apply: {
    requires: bird,
    // Refused before anything starts: apply validates first.
    apply: (text) =>
      applyBird(text, { configPath: join(dir, "bird.conf"), socket: join(dir, "bird.ctl"), timeoutMs: 5000 }),
    refused: () => [missingInclude()],
  },
  read: readBirdProtocols,
});

describe("bird adapter refuses hostile plans", () => {
  for (const c of hostile) {
    it(`${c.title}: Err of kind render`, () => {
      const result = renderBird(c.plan, { node });
      expect(result.isErr()).toBe(true);
      expect(result._unsafeUnwrapErr()).toMatchObject({ kind: "render", adapter: "bird" });
    });
  }

  it("does not echo hostile text raw into its error messages", () => {
    const message = renderBird(hostile[0]!.plan, { node })._unsafeUnwrapErr().message;
    expect(message).not.toContain("\n");
    expect(message).toContain("\\n");
  });
});
