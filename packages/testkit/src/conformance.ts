import { describe, expect, it } from "vitest";
import type { AdapterError, Plan } from "@portico/core";
import type { Result, ResultAsync } from "neverthrow";
import { describeWith, type Requirement } from "./gate.js";

/** A plan built from hostile input, and byte strings that must never appear in the output. */
export interface HostileCase {
  readonly title: string;
  readonly plan: Plan;
  readonly forbidden: readonly string[];
}

/** An adapter's `validate` under the suite: the real tool, run when the machine has it. */
export interface ValidateUnderTest {
  /** What the machine must have; unmet, the cases skip locally and fail under CI=true. */
  readonly requires: readonly Requirement[];
  /** Check rendered text; the options are bound by the caller. */
  readonly validate: (text: string) => ResultAsync<void, AdapterError>;
  /** Plans whose rendered text the tool must accept; default the empty plan and the typical plans. */
  readonly accepted?: () => readonly Plan[];
  /** Texts the tool must refuse. */
  readonly refused: () => readonly string[];
}

/** An adapter's `apply` under the suite, installing somewhere harmless (a temporary directory). */
export interface ApplyUnderTest<Input> {
  /** What the machine must have; unmet, the cases skip locally and fail under CI=true. */
  readonly requires: readonly Requirement[];
  /** Apply one input (a Plan or rendered text); the options are bound by the caller. */
  readonly apply: (input: Input) => ResultAsync<unknown, AdapterError>;
  /** Inputs apply must install. */
  readonly accepted?: () => readonly Input[];
  /** Inputs apply must refuse. */
  readonly refused: () => readonly Input[];
}

/** What the conformance suite needs from an adapter. */
export interface AdapterUnderTest<ApplyInput = Plan> {
  readonly name: string;
  /** Render a plan; the options (e.g. the LB node) are bound by the caller. */
  readonly render: (plan: Plan) => Result<string, AdapterError>;
  readonly emptyPlan: () => Plan;
  readonly typicalPlans: () => readonly Plan[];
  readonly hostile: () => readonly HostileCase[];
  /** Plans the adapter cannot render; each must come back as Err, never thrown. */
  readonly unrenderable?: () => readonly Plan[];
  readonly validate?: ValidateUnderTest;
  readonly apply?: ApplyUnderTest<ApplyInput>;
  /** Read what an installed file says (the adapter's `ReadFn`). */
  readonly read?: (installed: string) => unknown;
}

/**
 * The shared contract every adapter meets: byte-identical output for the same plan, an empty
 * plan renders, hostile input never reaches the file, failures are values; and, for the optional
 * parts it has, the real tool accepts what it renders, refusals come back as Err, and reading
 * any text never throws. Await it: the parts that need a tool wait for the check that it is there.
 */
export const describeAdapter = async <ApplyInput = Plan>(adapter: AdapterUnderTest<ApplyInput>): Promise<void> => {
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

    const read = adapter.read;
    if (read !== undefined) {
      it("reads what it renders the same way twice", () => {
        for (const plan of [adapter.emptyPlan(), ...adapter.typicalPlans()]) {
          const text = adapter.render(plan)._unsafeUnwrap();
          expect(read(text)).toEqual(read(text.slice()));
        }
      });

      it("reads any text without throwing: cut, shuffled, hostile or empty", () => {
        const texts = [adapter.emptyPlan(), ...adapter.typicalPlans()].map((p) => adapter.render(p)._unsafeUnwrap());
        const hostile = adapter.hostile().flatMap((c) => c.forbidden);
        for (const text of [...texts, ...mangled(texts), ...hostile, "", "\n", "\u0000\u00ff{}#"])
          expect(() => read(text), JSON.stringify(text.slice(0, 80))).not.toThrow();
      });
    }
  });
  const validate = adapter.validate;
  if (validate !== undefined) {
    await describeWith(validate.requires, `${adapter.name} adapter conformance: validate`, () => {
      it("the real tool accepts what it renders", async () => {
        for (const plan of validate.accepted?.() ?? [adapter.emptyPlan(), ...adapter.typicalPlans()]) {
          const result = await validate.validate(adapter.render(plan)._unsafeUnwrap());
          expect(result.isOk(), JSON.stringify(result.isErr() ? result.error : undefined)).toBe(true);
        }
      });

      it("returns the tool's refusals as Err of kind validate, never thrown", async () => {
        for (const [i, text] of validate.refused().entries()) {
          const result = await withoutThrowing(() => validate.validate(text));
          expect(result.isErr(), `refused text ${i}`).toBe(true);
          expect(result._unsafeUnwrapErr()).toMatchObject({ kind: "validate", adapter: adapter.name });
        }
      });
    });
  }
  const apply = adapter.apply;
  if (apply !== undefined) {
    await describeWith(apply.requires, `${adapter.name} adapter conformance: apply`, () => {
      it("applies what it is given", async () => {
        for (const input of apply.accepted?.() ?? []) {
          const result = await apply.apply(input);
          expect(result.isOk(), JSON.stringify(result.isErr() ? result.error : undefined)).toBe(true);
        }
      });

      it("returns a failed apply as Err, never thrown", async () => {
        for (const [i, input] of apply.refused().entries()) {
          const result = await withoutThrowing(() => apply.apply(input));
          expect(
            result.isErr(),
            `refused input ${i}: ${JSON.stringify(result.isOk() ? result.value : undefined)}`,
          ).toBe(true);
          expect(result._unsafeUnwrapErr().adapter).toBe(adapter.name);
        }
      });
    });
  }
};

// Calls `f` and awaits its result, failing the test if it throws or its promise rejects.
const withoutThrowing = async <T>(f: () => ResultAsync<T, AdapterError>): Promise<Result<T, AdapterError>> => {
  let pending: ResultAsync<T, AdapterError> | undefined;
  expect(() => {
    pending = f();
  }).not.toThrow();
  return await pending!;
};

// Rendered texts cut in half, with their lines reversed, and with every line's indent dropped.
const mangled = (texts: readonly string[]): string[] =>
  texts.flatMap((t) => [
    t.slice(0, Math.floor(t.length / 2)),
    t.split("\n").reverse().join("\n"),
    t
      .split("\n")
      .map((l) => l.trimStart())
      .join("\n"),
  ]);
