import type { Result, ResultAsync } from "neverthrow";
import type { ServiceKey } from "./model.js";
import type { Plan } from "./plan.js";

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
