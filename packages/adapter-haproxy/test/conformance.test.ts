import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Plan } from "@portico/core";
import { describeAdapter, program } from "@portico/testkit";
import { applyHaproxy, readLayout, renderHaproxy, validateHaproxy } from "@portico/adapter-haproxy";
import { emptyPlan, proxyV1NoServersPlan, typicalPlan } from "./fixtures.js";
import { hostileCases, unrenderablePlans } from "./hostile.js";

// apply installs into a directory of its own; no master socket answers there, so a valid config
// is written and nothing is reloaded.
const dir = mkdtempSync(join(tmpdir(), "portico-haproxy-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The plan's paths, moved into that directory; with `keepSocket` the stats socket stays, for the
// plans whose stats socket is what they get wrong.
const at = (plan: Plan, name: string, keepSocket = false): Plan => {
  mkdirSync(join(dir, name), { recursive: true });
  const haproxy = plan.settings.haproxy;
  return {
    ...plan,
    settings: {
      ...plan.settings,
      haproxy: {
        ...haproxy,
        configPath: join(dir, name, "haproxy.cfg"),
        statsSocket: keepSocket ? haproxy.statsSocket : join(dir, name, "admin.sock"),
        masterSocket: join(dir, name, "master.sock"),
      },
    },
  };
};
const typical = (): string => renderHaproxy(typicalPlan(), {})._unsafeUnwrap();

await describeAdapter({
  name: "haproxy",
  render: (p) => renderHaproxy(p, {}),
  emptyPlan,
  typicalPlans: () => [typicalPlan(), proxyV1NoServersPlan()],
  hostile: hostileCases,
  unrenderable: unrenderablePlans,
  validate: {
    requires: [program("haproxy", ["-v"])],
    validate: (text) => validateHaproxy(text, {}),
    refused: () => [
      typical().replace("balance roundrobin", "balance fastest"),
      typical().replace("    mode tcp\n", "    mode tcp\n    no_such_keyword\n"),
    ],
  },
  apply: {
    requires: [program("haproxy", ["-v"])],
    apply: (plan) => applyHaproxy(plan),
    accepted: () => [at(emptyPlan(), "empty"), at(typicalPlan(), "typical")],
    refused: () => [
      ...[...unrenderablePlans(), ...hostileCases().map((c) => c.plan)].map((p, i) => at(p, `refused-${i}`, true)),
      // A stats socket path longer than a Unix socket address can hold: rendered, refused by `haproxy -c`.
      (() => {
        const p = at(typicalPlan(), "long-socket");
        const statsSocket = join(dir, "long-socket", "x".repeat(120), "admin.sock");
        return { ...p, settings: { ...p.settings, haproxy: { ...p.settings.haproxy, statsSocket } } };
      })(),
    ],
  },
  read: readLayout,
});

// Stricter than the shared suite, which only asks that hostile bytes never land: this renderer
// refuses such plans outright, naming the Service.
describe("haproxy renderer refuses bad plans", () => {
  it("returns a render error naming the Service for every hostile plan", () => {
    for (const c of hostileCases()) {
      const out = renderHaproxy(c.plan, {});
      expect(out.isErr(), c.title).toBe(true);
      const e = out._unsafeUnwrapErr();
      expect(e.kind).toBe("render");
      expect(e.adapter).toBe("haproxy");
      // The stats socket is a setting, not a Service's.
      if (!c.title.startsWith("stats socket")) expect(e.service, c.title).toBeDefined();
    }
  });

  it("returns a render error for every unrenderable plan", () => {
    for (const p of unrenderablePlans()) expect(renderHaproxy(p, {})._unsafeUnwrapErr().kind).toBe("render");
  });
});
