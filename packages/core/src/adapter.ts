import type { Result, ResultAsync } from "neverthrow";
import type { ServiceKey } from "./model.js";
import type { Plan } from "./plan/types.js";

/** What went wrong in an adapter; expected failures are values, never thrown. */
export interface AdapterError {
  readonly kind: "render" | "validate" | "apply" | "io" | "unavailable";
  /** The adapter's name, e.g. `haproxy`. */
  readonly adapter: string;
  readonly message: string;
  /** One line on what to do about it. */
  readonly hint?: string;
  /** The Service at fault, when one is. */
  readonly service?: ServiceKey;
}

/** Every adapter must render: a pure function from a Plan to the text of one file. */
export type RenderFn<Options> = (plan: Plan, options: Options) => Result<string, AdapterError>;

/** Optional: check rendered text with the real tool (e.g. `haproxy -c`). */
export type ValidateFn<Options> = (text: string, options: Options) => ResultAsync<void, AdapterError>;

/**
 * Optional: install on this machine what the adapter renders and make the running tool take it.
 * `Input` is the rendered text, or the Plan when what is installed shapes the text (HAProxy keeps
 * live servers in their slots, so it renders against the installed file itself).
 */
export type ApplyFn<Input extends Plan | string, Options, Report> = (
  input: Input,
  options: Options,
) => ResultAsync<Report, AdapterError>;

/**
 * Optional: what an installed file says (its slots, its VRRP state), for status and for the next
 * plan. Total: lines it does not recognise are skipped, never thrown on.
 */
export type ReadFn<State> = (installed: string) => State;
