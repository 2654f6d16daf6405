import type { Result } from "neverthrow";
import type { Ident, Ip } from "@portico/core";
import { guardIdent, guardIp } from "../_guards.js";

/**
 * One render's answers to the guards that repeat across backends (a node's id and address, on
 * hundreds of thousands of server lines). Keyed by the value guarded, so a hand-built plan's odd
 * values are guarded and reported as a single guard would.
 */
export class Memo {
  readonly #idents = new Map<unknown, Result<Ident, string>>();
  readonly #ips = new Map<unknown, Result<Ip, string>>();

  /** {@link guardIdent}, once per value. */
  ident(value: unknown): Result<Ident, string> {
    let r = this.#idents.get(value);
    if (r === undefined) this.#idents.set(value, (r = guardIdent(value)));
    return r;
  }

  /** {@link guardIp}, once per value. */
  ip(value: unknown): Result<Ip, string> {
    let r = this.#ips.get(value);
    if (r === undefined) this.#ips.set(value, (r = guardIp(value)));
    return r;
  }
}
