import { ok, safeTry, type Result } from "neverthrow";
import type { AdapterError, HaproxyConfig, Plan } from "@portico/core";
import { guardPort } from "../_guards.js";
import { renderError } from "./_renderError.js";
import { plainSection, sectionLines, type Section } from "./_section.js";

// A stick table lives in the worker: without a peer, a reload starts the new worker with an empty
// one and every ClientIP Service's clients are balanced afresh. With a local peer the old worker
// hands its entries to the new one before it leaves.

/** The `peers` section every stick table names. */
export const PEERS = "portico";
/** The local peer's name, given to HAProxy by `localpeer` in `global` (the same on every LB node). */
export const LOCAL_PEER = "portico_local";

/** Whether the file needs the local peer: some backend keeps a stick table (ClientIP affinity). */
export const needsPeers = (plan: Plan): boolean => plan.backends.some((b) => b.affinity !== undefined);

/** The `peers` section: one local peer on the loopback, so stick tables survive a reload. */
export const renderPeers = (haproxy: HaproxyConfig): Result<Section, AdapterError> =>
  safeTry(function* () {
    const port = yield* guardPort(haproxy.peersPort ?? 10_000).mapErr((m) =>
      renderError(`settings.haproxy.peersPort: ${m}`),
    );
    return ok(
      plainSection(
        sectionLines(`peers ${PEERS}`, [
          "# sessionAffinity: ClientIP keeps its stick tables across reloads: the old worker hands",
          "# them to the new one through this local peer. They are not shared between LB nodes, so",
          "# a VIP that moves to another LB node balances its clients afresh once.",
          `peer ${LOCAL_PEER} 127.0.0.1:${port}`,
        ]).join("\n"),
      ),
    );
  });
