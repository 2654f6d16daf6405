import { randomBytes } from "node:crypto";
import { err, ResultAsync, type Result } from "neverthrow";
import type { AdapterError } from "@portico/core";
import { addInterface, createNamespace, deleteNamespace } from "@portico/host";
import { validateKeepalived } from "./validate.js";

/** Options for {@link validateKeepalivedIsolated}. */
export interface KeepalivedIsolatedOptions {
  /** The interfaces the config names (e.g. the LB node's `interface`); each is created in the namespace. */
  readonly interfaces: readonly string[];
  readonly binary?: string;
  readonly timeoutMs?: number;
  /** Prefix of the scratch namespace's name; default `portico-check-` (a random suffix follows). */
  readonly namespacePrefix?: string;
}

/**
 * Check keepalived.conf away from the LB node: `keepalived -t` refuses a config whose interface
 * does not exist where it runs, so this makes a throw-away network namespace holding interfaces
 * with those names, checks there, and deletes the namespace whatever happens. Needs root (to
 * create the namespace); Err `unavailable` otherwise.
 */
export const validateKeepalivedIsolated = (
  text: string,
  options: KeepalivedIsolatedOptions,
): ResultAsync<void, AdapterError> =>
  new ResultAsync(
    (async (): Promise<Result<void, AdapterError>> => {
      const ns = `${options.namespacePrefix ?? "portico-check-"}${randomBytes(4).toString("hex")}`;
      const made = await createNamespace(ns);
      if (made.isErr()) {
        return err({
          kind: "unavailable",
          adapter: "keepalived",
          message: `cannot make a scratch network namespace: ${made.error.message}`,
          hint: "Run as root, or validate on the LB node itself.",
        });
      }
      try {
        for (const name of [...new Set(options.interfaces)].sort()) {
          const added = await addInterface(ns, name);
          if (added.isErr())
            return err({
              kind: "unavailable",
              adapter: "keepalived",
              message: `cannot add interface ${name} to the scratch namespace: ${added.error.message}`,
            });
        }
        return await validateKeepalived(text, {
          netns: ns,
          ...(options.binary === undefined ? {} : { binary: options.binary }),
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        });
      } finally {
        await deleteNamespace(ns);
      }
    })(),
  );
