import { describe, expect, it } from "vitest";
import { describeAdapter } from "@portico/testkit";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { emptyPlan, proxyV1NoServersPlan, typicalPlan } from "./fixtures.js";
import { hostileCases, unrenderablePlans } from "./hostile.js";

describeAdapter({
  name: "haproxy",
  render: (p) => renderHaproxy(p, {}),
  emptyPlan,
  typicalPlans: () => [typicalPlan(), proxyV1NoServersPlan()],
  hostile: hostileCases,
  unrenderable: unrenderablePlans,
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
