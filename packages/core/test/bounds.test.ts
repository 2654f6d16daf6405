import { describe, expect, it } from "vitest";
import { boundDiagnostics, DIAGNOSTICS_PER_OBJECT } from "../src/diagnostics.js";
import type { Diagnostic } from "../src/model.js";
import { ingest } from "../src/ingest.js";
import { EXCLUDE_LABEL, isEligible } from "../src/nodes.js";
import { aNode, aService, planOf } from "../src/testing/index.js";

const about = (name: string, severity: Diagnostic["severity"], reason: string, i: number): Diagnostic => ({
  severity,
  reason,
  object: { kind: "Service", namespace: "default", name },
  field: `spec.ports[${i}]`,
  message: `Service default/${name}: spec.ports[${i}]: ${reason}`,
});

describe("bounded diagnostics", () => {
  it("keeps at most a few per object, the most severe first, and summarises the rest in one", () => {
    const noisy = Array.from({ length: 100 }, (_, i) => about("noisy", i === 77 ? "error" : "warning", "W", i));
    const quiet = [about("quiet", "info", "I", 0)];
    const out = boundDiagnostics([...noisy, ...quiet]);
    const mine = out.filter((d) => d.object.name === "noisy");
    expect(mine).toHaveLength(DIAGNOSTICS_PER_OBJECT + 1);
    expect(mine.some((d) => d.severity === "error")).toBe(true);
    expect(mine.find((d) => d.reason === "MoreDiagnostics")?.message).toBe(
      `Service default/noisy: ${100 - DIAGNOSTICS_PER_OBJECT} more diagnostic(s) not shown (W)`,
    );
    expect(out.filter((d) => d.object.name === "quiet")).toEqual(quiet);
  });

  it("changes nothing while every object has few", () => {
    const list = [about("a", "warning", "W", 1), about("a", "error", "E", 0)];
    expect(boundDiagnostics(list)).toEqual([list[1], list[0]]);
  });
});

describe("small fidelity details", () => {
  it("reads the source range ::ffff:0.0.0.0/96 as IPv4 0.0.0.0/0, with a warning", () => {
    const snap = ingest([aService({ loadBalancerSourceRanges: ["::ffff:0.0.0.0/96", "::ffff:198.18.0.0/111"] })]);
    expect(snap.services[0]?.loadBalancerSourceRanges).toEqual(["0.0.0.0/0", "198.18.0.0/15"]);
    expect(snap.diagnostics.filter((d) => d.reason === "MappedSourceRange").map((d) => d.field)).toEqual([
      "spec.loadBalancerSourceRanges[0]",
      "spec.loadBalancerSourceRanges[1]",
    ]);
  });

  it("warns when no node has an address of a family the Service is served in", () => {
    const p = planOf([aNode("n", "198.18.2.1"), aService({ ipFamilies: ["IPv6"] })]);
    expect(p.services[0]?.diagnostics.map((d) => d.reason)).toContain("NoNodeOfFamily");
    expect(p.services[0]?.diagnostics.find((d) => d.reason === "NoNodeOfFamily")?.message).toBe(
      "Service default/web: no eligible node has an IPv6 address to send to",
    );
    const fine = planOf([aNode("n", "198.18.2.1"), aService()]);
    expect(fine.services[0]?.diagnostics.map((d) => d.reason)).not.toContain("NoNodeOfFamily");
  });

  it("parses the exclude-from-external-load-balancers label as Go's strconv.ParseBool", () => {
    const label = (v: string) => [aNode("n", "198.18.2.1", { labels: { [EXCLUDE_LABEL]: v } })];
    for (const v of ["0", "f", "F", "false", "False", "FALSE"])
      expect(ingest(label(v)).nodes.every(isEligible)).toBe(true);
    for (const v of ["1", "t", "true", "TRUE", "", "yes", "no"])
      expect(ingest(label(v)).nodes.some(isEligible)).toBe(false);
  });
});
