import { describe, expect, it } from "vitest";
import type { AdapterError, Plan } from "@portico/core";
import type { Result } from "neverthrow";

/** A plan built from hostile input, and byte strings that must never appear in the output. */
export interface HostileCase {
  readonly title: string;
  readonly plan: Plan;
  readonly forbidden: readonly string[];
}

/** What the conformance suite needs from an adapter. */
export interface AdapterUnderTest {
  readonly name: string;
  /** Render a plan; the options (e.g. the LB node) are bound by the caller. */
  readonly render: (plan: Plan) => Result<string, AdapterError>;
  readonly emptyPlan: () => Plan;
  readonly typicalPlans: () => readonly Plan[];
  readonly hostile: () => readonly HostileCase[];
  /** Plans the adapter cannot render; each must come back as Err, never thrown. */
  readonly unrenderable?: () => readonly Plan[];
}

/**
 * The shared contract every renderer meets: byte-identical output for the same plan, an empty
 * plan renders, hostile input never reaches the file, failures are values.
 */
export const describeAdapter = (adapter: AdapterUnderTest): void => {
  describe(`${adapter.name} adapter conformance`, () => {
    it("renders the same plan to byte-identical text twice", () => {
      for (const plan of adapter.typicalPlans()) {
        const a = adapter.render(plan);
        const b = adapter.render(structuredClone(plan));
        expect(a.isOk()).toBe(true);
        expect(b._unsafeUnwrap()).toBe(a._unsafeUnwrap());
      }
    });

    it("renders an empty plan", () => {
      const out = adapter.render(adapter.emptyPlan());
      expect(out.isOk()).toBe(true);
      expect(out._unsafeUnwrap().length).toBeGreaterThan(0);
    });

    it("ends every file with one newline and has no control characters but newlines", () => {
      for (const plan of [adapter.emptyPlan(), ...adapter.typicalPlans()]) {
        const text = adapter.render(plan)._unsafeUnwrap();
        expect(text.endsWith("\n")).toBe(true);
        expect(text.endsWith("\n\n")).toBe(false);
        // eslint-disable-next-line no-control-regex
        expect(/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)).toBe(false);
      }
    });

    it("never writes hostile input into the file", () => {
      for (const c of adapter.hostile()) {
        const out = adapter.render(c.plan);
        if (out.isErr()) continue;
        for (const f of c.forbidden) expect(out.value, `${c.title}: ${JSON.stringify(f)}`).not.toContain(f);
      }
    });

    it("returns failures as Err instead of throwing", () => {
      for (const plan of adapter.unrenderable?.() ?? []) {
        let result: Result<string, AdapterError> | undefined;
        expect(() => {
          result = adapter.render(plan);
        }).not.toThrow();
        expect(result?.isErr()).toBe(true);
      }
    });
  });
};
