import { once } from "node:events";
import { join, resolve } from "node:path";
import type { Started } from "@portico/host";

// What the `portico run` end-to-end files share: where the programs are, reading a child's
// output, and reading the plain objects the test API server holds.

const repo = resolve(import.meta.dirname, "../../../..");
/** The built `portico` binary. */
export const BIN = join(repo, "packages/cli/dist/bin.js");
/** The data-plane lab's fake node: a nodePort server and a /healthz server. */
export const FAKE_NODE = join(repo, "packages/adapter-haproxy/test/lab/fake-node.mjs");
/** The data-plane lab's bounded client; prints one JSON {@link ClientSummary}. */
export const CLIENT = join(repo, "packages/adapter-haproxy/test/lab/client.mjs");
/** Tries a VIP every 5 ms until a fake node answers; prints `connected <epoch ms> <node>`. */
export const PROBE = join(import.meta.dirname, "first-connect.mjs");
/** The upstream load-balancer cleanup finalizer. */
export const CLEANUP = "service.kubernetes.io/load-balancer-cleanup";

/** What client.mjs prints. */
export interface ClientSummary {
  readonly ok: number;
  readonly failed: number;
  readonly byNode: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
}

/** A plain object as the test API server stores it. */
export type Obj = Record<string, unknown>;
/** An object's metadata (empty when absent). */
export const metaOf = (o: Obj | undefined): Obj => (o?.["metadata"] ?? {}) as Obj;
/** A Service's `status.loadBalancer.ingress` (empty when absent). */
export const ingressOf = (o: Obj | undefined): { ip?: string; ipMode?: string }[] =>
  ((((o?.["status"] ?? {}) as Obj)["loadBalancer"] ?? {}) as { ingress?: { ip?: string; ipMode?: string }[] })
    .ingress ?? [];
/** The name of the object an Event is about. */
export const regardingOf = (e: Obj | undefined): string | undefined =>
  ((e?.["involvedObject"] ?? e?.["regarding"]) as Obj | undefined)?.["name"] as string | undefined;

/** A line printed by a test file, tagged so the figures are easy to find in CI output. */
export const sayer =
  (tag: string) =>
  (line: string): void => {
    process.stdout.write(`[${tag}] ${line}\n`);
  };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The first line of a child's stdout that starts with `prefix`; fails after `capMs` (a safety cap). */
export const waitForLine = async (proc: Started, prefix: string, capMs = 20_000): Promise<string> => {
  let seen = "";
  const timer = setTimeout(
    () => proc.stdout!.emit("error", new Error(`no "${prefix}" within ${capMs} ms: ${seen}`)),
    capMs,
  );
  try {
    for (;;) {
      const line = seen.split("\n").find((l) => l.startsWith(prefix));
      if (line !== undefined) return line;
      const [chunk] = (await once(proc.stdout!, "data")) as [Buffer];
      seen += chunk.toString();
    }
  } finally {
    clearTimeout(timer);
  }
};
