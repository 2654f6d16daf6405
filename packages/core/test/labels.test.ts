import { describe, expect, it } from "vitest";
import { formatSelector, matchesSelector, parseSelectorObject, parseSelectorString } from "../src/labels.js";

describe("label selectors", () => {
  it("parses the kubectl string form and matches with Kubernetes semantics", () => {
    const s = parseSelectorString("role in (ingress, edge),zone!=b,!draining,gpu")._unsafeUnwrap();
    expect(formatSelector(s)).toBe("!draining,gpu,role in (edge,ingress),zone!=b");
    expect(matchesSelector(s, { role: "edge", gpu: "" })).toBe(true);
    expect(matchesSelector(s, { role: "edge", gpu: "", zone: "b" })).toBe(false);
    expect(matchesSelector(s, { role: "edge", gpu: "", draining: "1" })).toBe(false);
    expect(matchesSelector(s, { role: "web", gpu: "" })).toBe(false);
    expect(parseSelectorString("a=b\nbackend evil").isErr()).toBe(true);
    expect(parseSelectorString("x in (a").isErr()).toBe(true);
  });

  it("parses the object form used in the config", () => {
    const s = parseSelectorObject({
      matchLabels: { tier: "edge" },
      matchExpressions: [{ key: "env", operator: "NotIn", values: ["dev"] }],
    })._unsafeUnwrap();
    expect(matchesSelector(s, { tier: "edge" })).toBe(true);
    expect(matchesSelector(s, { tier: "edge", env: "dev" })).toBe(false);
    expect(parseSelectorObject({ matchExpressions: [{ key: "a", operator: "Near" }] })._unsafeUnwrapErr()).toContain(
      "operator",
    );
  });
});
