// The suite that holds a fast path to its simple path: vitest-based, so only tests import it (the
// `@portico/core/testing` entry stays free of a test runner).
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** A fast path and the simple path it must equal, with the input sequences to try them on. */
export interface IncrementalCase<I, O, S> {
  /** What is held equal, for the suite's title. */
  readonly name: string;
  /** The simple path (the spec); `previous` is its answer for the input before. */
  readonly full: (input: I, previous: O | undefined) => O;
  /** The fast path: the same answer from the state it returned for the input before. */
  readonly fast: (input: I, previous: O | undefined, state: S | undefined) => { readonly output: O; readonly state: S };
  /** Input sequences by title: each is run in order, as a controller meets them. */
  readonly arbitraries: Readonly<Record<string, fc.Arbitrary<readonly I[]>>>;
  /** How answers are printed to be compared byte for byte (JSON by default); they are also deeply equal. */
  readonly print?: (output: O) => string;
  readonly numRuns?: number;
}

/**
 * describeIncremental holds `fast` to `full` byte for byte over every input sequence of
 * `arbitraries`: one property per sequence generator, each named by the invariant it checks.
 */
export const describeIncremental = <I, O, S>(c: IncrementalCase<I, O, S>): void => {
  const print = c.print ?? ((o: O) => JSON.stringify(o));
  describe(`${c.name}: the fast path gives the simple path's answer`, () => {
    for (const [title, arb] of Object.entries(c.arbitraries)) {
      it(`byte for byte over ${title}`, () => {
        fc.assert(
          fc.property(arb, (inputs) => {
            let previous: O | undefined;
            let state: S | undefined;
            for (const input of inputs) {
              const fast = c.fast(input, previous, state);
              const full = c.full(input, previous);
              expect(print(fast.output)).toBe(print(full));
              expect(fast.output).toStrictEqual(full);
              previous = full;
              state = fast.state;
            }
          }),
          { numRuns: c.numRuns ?? 100 },
        );
      });
    }
  });
};
