import { describe, it } from "vitest";
import { run } from "@portico/host";

/** True when tests run under CI, where a missing tool is a failure, not a skip. */
export const inCi = (): boolean => process.env["CI"] === "true" || process.env["CI"] === "1";

/** A requirement a test file has on the machine. */
export interface Requirement {
  readonly name: string;
  /** Resolves to undefined when met, else the reason it is not. */
  readonly check: () => Promise<string | undefined>;
}

/** A program that must start (`<program> <args>` exits, any code). */
export const program = (name: string, args: readonly string[] = ["-v"]): Requirement => ({
  name,
  check: async () => {
    const r = await run(name, args, { timeoutMs: 10_000 });
    return r.isOk() ? undefined : `${name} is not installed (apt-get install -y ${debianPackage(name)})`;
  },
});

/** The tests must run as root (network namespaces, binding VIPs). */
export const root: Requirement = {
  name: "root",
  check: async () => (process.getuid?.() === 0 ? undefined : "needs root (network namespaces)"),
};

const debianPackage = (program: string): string => (program === "ip" ? "iproute2" : program);

/**
 * `describe` that runs only when every requirement is met. Locally an unmet requirement skips the
 * block and prints why; under CI=true it fails the block instead, so CI can never pass by skipping.
 */
export const describeWith = async (
  requirements: readonly Requirement[],
  name: string,
  body: () => void,
): Promise<void> => {
  const reasons = (await Promise.all(requirements.map((r) => r.check()))).filter((r): r is string => r !== undefined);
  if (reasons.length === 0) {
    describe(name, body);
    return;
  }
  const why = reasons.join("; ");
  if (inCi()) {
    describe(name, () => {
      it(`has what it needs under CI (${why})`, () => {
        throw new Error(`CI=true but this suite cannot run: ${why}`);
      });
    });
    return;
  }
  process.stdout.write(`[skip] ${name}: ${why}\n`);
  describe.skip(`${name} (skipped: ${why})`, body);
};
