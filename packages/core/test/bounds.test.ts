import { describe, expect, it } from "vitest";
import { boundDiagnostics, DIAGNOSTICS_PER_OBJECT } from "../src/diagnostics.js";
import type { Diagnostic } from "../src/model.js";

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
