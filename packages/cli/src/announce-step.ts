import type { Ip } from "@portico/core";

/** What the announcer knows between two looks at HAProxy. */
export interface AnnounceState {
  /** What BIRD announces now. */
  readonly announced: ReadonlySet<Ip>;
  /** Since when each servable, not yet announced VIP has been servable without a break. */
  readonly servableSince: ReadonlyMap<Ip, number>;
}

/** The first state: what BIRD already announces (it stays announced while it is servable). */
export const initialAnnounceState = (announced: Iterable<Ip>): AnnounceState => ({
  announced: new Set(announced),
  servableSince: new Map(),
});

/** What to do after one look: the VIPs to withdraw and to announce, and the next state. */
export interface AnnounceStep {
  readonly state: AnnounceState;
  readonly withdraw: readonly Ip[];
  readonly announce: readonly Ip[];
}

/**
 * announceStep decides, from one look at what this node can serve, what to withdraw (at once: a
 * VIP it cannot serve, or one no longer planned) and what to announce (a VIP servable without a
 * break for `upDelayMs`, so a flapping backend does not pull flows back and forth). Pure.
 */
export const announceStep = (
  state: AnnounceState,
  planned: readonly Ip[],
  servable: ReadonlySet<Ip>,
  now: number,
  upDelayMs: number,
): AnnounceStep => {
  const wanted = new Set(planned);
  const withdraw = [...state.announced].filter((v) => !wanted.has(v) || !servable.has(v));
  const announced = new Set([...state.announced].filter((v) => !withdraw.includes(v)));
  const servableSince = new Map<Ip, number>();
  const announce: Ip[] = [];
  for (const v of planned) {
    if (!servable.has(v) || announced.has(v)) continue;
    const since = state.servableSince.get(v) ?? now;
    if (now - since >= upDelayMs) {
      announce.push(v);
      announced.add(v);
    } else servableSince.set(v, since);
  }
  return { state: { announced, servableSince }, withdraw, announce };
};
