import { ingestIncremental, type ClusterSnapshot, type IngestCache } from "@portico/core";
import { Coalescer, type CoalesceTiming } from "./coalesce.js";
import type { ClusterWatch } from "./watch.js";

/**
 * Snapshots of the cluster from a {@link ClusterWatch}: none before every initial list has
 * completed, one per burst of events (coalesced), and none when nothing Portico reads has
 * changed (a Node's heartbeat, an unrelated annotation): ingest keeps the last snapshot's objects
 * where nothing changed, so an unchanged snapshot is the last one published.
 */
export class SnapshotSource {
  readonly #watch: ClusterWatch;
  readonly #coalescer: Coalescer;
  readonly #onSnapshot: (snapshot: ClusterSnapshot) => void;
  #ingest: IngestCache | undefined;
  #last: ClusterSnapshot | undefined;
  #published = 0;

  constructor(watch: ClusterWatch, timing: CoalesceTiming, onSnapshot: (snapshot: ClusterSnapshot) => void) {
    this.#watch = watch;
    this.#onSnapshot = onSnapshot;
    this.#coalescer = new Coalescer(timing, () => this.#build());
  }

  /** Call on every change the watch reports. */
  changed(): void {
    if (this.#watch.health().synced) this.#coalescer.poke();
  }

  /** Stop any pending snapshot. */
  stop(): void {
    this.#coalescer.cancel();
  }

  /** How many snapshots have been published. */
  get published(): number {
    return this.#published;
  }

  #build(): void {
    if (!this.#watch.health().synced) return;
    const { snapshot, cache } = ingestIncremental(this.#watch.objects(), this.#ingest);
    this.#ingest = cache;
    if (snapshot === this.#last) return;
    this.#last = snapshot;
    this.#published++;
    this.#onSnapshot(snapshot);
  }
}
