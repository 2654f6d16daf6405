import { isAbsolute, join } from "node:path";
import { parseArgs } from "node:util";
import type { Io } from "./io.js";

/** The exit codes of the command-line contract. */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, applyFailed: 3 } as const;

/** Write a one-line error (no stack trace) and return the exit code. */
export const fail = (io: Io, message: string, code: number): number => {
  io.stderr(`portico: ${message}\n`);
  return code;
};

/** Typed access to parsed flags. */
export interface Flags {
  string(name: string): string | undefined;
  /** A flag without a value, e.g. `--dry-run`. */
  boolean(name: string): boolean;
  /** A flag the command needs; undefined when absent or empty. */
  required(name: string): string | undefined;
  /** `--config`, else $PORTICO_CONFIG, else ./portico.yaml (relative to the working directory). */
  configPath(io: Io): string;
}

/** Flags each command accepts; anything else is a usage error. */
export const COMMAND_FLAGS: Readonly<Record<string, readonly string[]>> = {
  plan: ["cluster", "config", "output", "against"],
  render: ["cluster", "config", "node", "out"],
  doctor: ["config", "node", "kubeconfig"],
  tune: ["config", "node", "dry-run", "sysfs-root", "procfs-root"],
  apply: ["cluster", "config", "node"],
  run: ["config", "node", "kubeconfig"],
  status: ["config", "node", "watch", "interval", "output"],
};

/** Flags that take no value. */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(["dry-run", "watch"]);

/** Parse a command's flags strictly: unknown flags and stray arguments are errors. */
export const parseFlags = (command: string, argv: readonly string[]): { flags: Flags } | { error: string } => {
  const names = COMMAND_FLAGS[command] ?? [];
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        names.map((n) => [n, { type: BOOLEAN_FLAGS.has(n) ? ("boolean" as const) : ("string" as const) }]),
      ),
      strict: true,
      allowPositionals: false,
    });
    const get = (n: string): string | undefined => {
      const v = (values as Record<string, string | boolean | undefined>)[n];
      return typeof v === "string" ? v : undefined;
    };
    return {
      flags: {
        string: get,
        boolean: (n) => (values as Record<string, string | boolean | undefined>)[n] === true,
        required: (n) => {
          const v = get(n);
          return v === undefined || v === "" ? undefined : v;
        },
        configPath: (io) => {
          const p = get("config") ?? io.env["PORTICO_CONFIG"] ?? "portico.yaml";
          return isAbsolute(p) ? p : join(io.cwd, p);
        },
      },
    };
  } catch (e) {
    // parseArgs' messages are clear but long; keep the first sentence and point at --help.
    const message = (e as Error).message.split(". ")[0] ?? "bad arguments";
    const takes = names.map((n) => `--${n}`).join(", ");
    const accepted = /^Unknown option|^Unexpected argument/.test(message) ? `; ${command} takes ${takes}` : "";
    return {
      error: `${command}: ${message.replace(/^Unknown option/, "unknown option")}${accepted} (see portico ${command} --help)`,
    };
  }
};
