import type { StatRow } from "@portico/adapter-haproxy";
import { parseConfig } from "@portico/core";
import { aConfig, aNode, aService, planOf } from "@portico/core/testing";
import { describe, expect, it } from "vitest";
import { l4ChecksDown } from "../src/l4-health.js";

// Which nodes the L4 tables leave out, from HAProxy's `show stat` rows of the check servers.

const config = parseConfig(aConfig({}))._unsafeUnwrap();
const plan = planOf(
  [
    aNode("n1", "198.18.30.1", { moreIps: ["2001:db8:1::1"] }),
    aNode("n2", "198.18.30.2", { moreIps: ["2001:db8:1::2"] }),
    aService({
      name: "dns",
      policy: "Local",
      healthCheckNodePort: 32053,
      ipFamilies: ["IPv4", "IPv6"],
      ipFamilyPolicy: "RequireDualStack",
      ports: [{ port: 53, nodePort: 30053, protocol: "UDP" }],
    }),
  ],
  config,
);
const ids = (plan.l4Listeners ?? []).map((l) => (l.healthCheck.kind === "track" ? l.healthCheck.backend : ""));
const [v4, v6] = [ids.find((i) => i.endsWith("v4") || i.includes("_v4_"))!, ids.find((i) => i.includes("_v6"))!];
const row = (proxy: string, address: string, state: StatRow["state"], name = "s1"): StatRow => ({
  proxy,
  name,
  type: "server",
  status: state ?? "",
  ...(state === undefined ? {} : { state }),
  sessions: 0,
  address,
});

describe("l4ChecksDown", () => {
  it("finds a DOWN check server's node by its address, IPv4 and bracketed IPv6, per check backend", () => {
    const down = l4ChecksDown(plan, [
      row(v4, "198.18.30.2:32053", "DOWN"),
      row(v4, "198.18.30.1:32053", "UP", "s2"),
      row(v6, "[2001:db8:1::1]:32053", "DOWN"),
    ]);
    expect(down.get(v4)).toEqual(new Set(["n2"]));
    expect(down.get(v6)).toEqual(new Set(["n1"]));
  });

  it("takes nobody out on what it cannot place: another proxy, another port, an empty slot in maintenance, no rows", () => {
    const down = l4ChecksDown(plan, [
      row("be_other", "198.18.30.2:32053", "DOWN"),
      row(v4, "198.18.30.2:30053", "DOWN"),
      row(v4, "0.0.0.0:32053", "MAINT"),
      row(v4, "198.18.30.1:32053", "MAINT"),
    ]);
    expect([...down.values()].every((s) => s.size === 0)).toBe(true);
    expect([...l4ChecksDown(plan, []).values()].every((s) => s.size === 0)).toBe(true);
  });
});
