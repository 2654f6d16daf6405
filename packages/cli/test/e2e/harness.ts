import { join, resolve } from "node:path";

// What the `portico run` end-to-end files share: where the programs are, reading a child's
// output, and reading the plain objects the test API server holds.

const repo = resolve(import.meta.dirname, "../../../..");
/** The built `portico` binary. */
export const BIN = join(repo, "packages/cli/dist/bin.js");
/** The lab's programs under the names these files use: fake node, bounded client, first-connect probe. */
export {
  CLIENT_BIN as CLIENT,
  FAKE_NODE_BIN as FAKE_NODE,
  FIRST_CONNECT_BIN as PROBE,
  waitForLine,
  type ClientSummary,
} from "@portico/testkit";
/** The upstream load-balancer cleanup finalizer. */
export const CLEANUP = "service.kubernetes.io/load-balancer-cleanup";

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
