import type { AdapterError, Ip } from "@portico/core";
import type { Result } from "neverthrow";
import { announceStep, initialAnnounceState, type AnnounceState } from "./announce-step.js";

/** What the {@link Announcer} needs from the world. */
export interface AnnouncerPorts {
  /** The VIPs this node can serve now; undefined when it could not be told (HAProxy does not answer). */
  readonly servable: () => Promise<ReadonlySet<Ip> | undefined>;
  /** Announce or withdraw one VIP (`birdc enable`/`disable` of its static protocol). */
  readonly set: (vip: Ip, announced: boolean) => Promise<Result<void, AdapterError>>;
  readonly now: () => number;
  /** Told of every change, and of every failed birdc. */
  readonly log?: (event: { readonly vip: Ip; readonly announced: boolean; readonly error?: string }) => void;
}

/** How often and how patiently the {@link Announcer} looks. */
export interface AnnouncerTiming {
  /** Between looks at HAProxy; a VIP it cannot serve is withdrawn within about this long. */
  readonly pollMs: number;
  readonly upDelayMs: number;
  /** Looks in a row HAProxy must fail to answer before every VIP is withdrawn (a reload is not a death). */
  readonly missesToWithdraw: number;
}

/**
 * Announcer: the loop that keeps BIRD announcing exactly what this LB node can serve. It looks at
 * HAProxy every `pollMs`, withdraws a VIP as soon as it cannot be served, announces one after it
 * has been servable for the up-delay, and withdraws everything when it leaves.
 */
export class Announcer {
  #state: AnnounceState;
  #planned: readonly Ip[] = [];
  #misses = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> = Promise.resolve();
  readonly #ports: AnnouncerPorts;
  readonly #timing: AnnouncerTiming;

  constructor(ports: AnnouncerPorts, timing: AnnouncerTiming, announcedNow: Iterable<Ip> = []) {
    this.#ports = ports;
    this.#timing = timing;
    this.#state = initialAnnounceState(announcedNow);
  }

  /** What BIRD announces now: render it into the next bird.conf, since a reconfigure restores the file's choice. */
  announced(): Ip[] {
    return [...this.#state.announced];
  }

  /** The VIPs the latest plan has this node announce. */
  setPlanned(vips: readonly Ip[]): void {
    this.#planned = vips;
  }

  /** Look once now (and wait for what it decides to be done). */
  tick(): Promise<void> {
    this.#busy = this.#busy.then(() => this.#look());
    return this.#busy;
  }

  /** Look at once, without waiting for the next tick, while it looks on its own (between start and stop). */
  nudge(): void {
    if (this.#timer !== undefined) void this.tick();
  }

  /** Look every `pollMs` until {@link leave}. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.tick(), this.#timing.pollMs);
  }

  /** Stop looking; what is announced stays announced. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#busy;
  }

  /** Stop looking and withdraw every VIP first, so no new flow lands on a node that is leaving. */
  async leave(): Promise<void> {
    await this.stop();
    this.#planned = [];
    await this.#apply(announceStep(this.#state, [], new Set(), this.#ports.now(), this.#timing.upDelayMs));
  }

  async #look(): Promise<void> {
    const seen = await this.#ports.servable();
    this.#misses = seen === undefined ? this.#misses + 1 : 0;
    const servable = seen ?? (this.#misses >= this.#timing.missesToWithdraw ? new Set<Ip>() : undefined);
    if (servable === undefined) return;
    await this.#apply(announceStep(this.#state, this.#planned, servable, this.#ports.now(), this.#timing.upDelayMs));
  }

  async #apply(step: ReturnType<typeof announceStep>): Promise<void> {
    const announced = new Set(step.state.announced);
    // Withdraw first: a VIP this node cannot serve must stop drawing flows before anything else.
    for (const [vip, on] of [
      ...step.withdraw.map((v) => [v, false] as const),
      ...step.announce.map((v) => [v, true] as const),
    ]) {
      const r = await this.#ports.set(vip, on);
      if (r.isErr()) {
        // Not done: try again on the next look.
        if (on) announced.delete(vip);
        else announced.add(vip);
        this.#ports.log?.({ vip, announced: on, error: r.error.message });
      } else this.#ports.log?.({ vip, announced: on });
    }
    this.#state = { announced, servableSince: step.state.servableSince };
  }
}
