// What the planner tests by module share: a Service's plan by key, its reasons, and a config
// of four pools (public, reserved, one namespace's, one selector's).
import { aParsedConfig } from "../src/testing/index.js";
import type { Plan } from "../src/plan/types.js";

export const svc = (p: Plan, key: string) => p.services.find((s) => s.key === key)!;
export const reasons = (p: Plan, key: string) => svc(p, key).diagnostics.map((d) => d.reason);
export const TWO_POOLS = aParsedConfig({
  pools: [
    { name: "public", addresses: ["198.18.100.10-198.18.100.12", "2001:db8:100::/126"] },
    { name: "reserved", addresses: ["198.18.101.0/30"], autoAssign: false },
    { name: "team-a", addresses: ["198.18.102.0/30"], namespaces: ["team-a"] },
    {
      name: "edge",
      addresses: ["198.18.103.0/30"],
      autoAssign: false,
      serviceSelector: { matchLabels: { tier: "edge" } },
    },
  ],
});
