import type { ServiceKey } from "../model.js";
import type { Backend, Frontend, Plan, ServicePlan, VrrpInstance } from "../plan/types.js";
import { sameItems } from "../same.js";
import { Ordered, spanOf, type Span } from "../_span.js";
import { sorted, vipsInstances } from "./_lists.js";
import { collect, serviceDiff, type Lookups, type ServicesDiff } from "./_serviceDiff.js";

// What the planner guarantees, checked (see Ordered): Services, frontends and backends are sorted
// by key and id.
const servicesByKey = new Ordered<ServicePlan>((s) => s.key);
const frontendsById = new Ordered<Frontend>((f) => f.id);
const backendsById = new Ordered<Backend>((b) => b.id);

/** The items of two lists that are not the very same objects under the same id, by id and by Service. */
interface Differing<T> {
  readonly before: Map<string, T>;
  readonly after: Map<string, T>;
  readonly byServiceBefore: Map<string, T[]>;
  readonly byServiceAfter: Map<string, T[]>;
}

// Both lists are in strictly ascending id order: a walk pairs their middles by id and keeps what
// differs (an item kept as is sits in both plans under its id and changes nothing).
const differing = <T extends { readonly id: string; readonly service: string }>(
  before: readonly T[],
  after: readonly T[],
  span: Span,
): Differing<T> => {
  const out: Differing<T> = {
    before: new Map(),
    after: new Map(),
    byServiceBefore: new Map(),
    byServiceAfter: new Map(),
  };
  const add = (byId: Map<string, T>, byService: Map<string, T[]>, x: T): void => {
    byId.set(x.id, x);
    const list = byService.get(x.service);
    if (list === undefined) byService.set(x.service, [x]);
    else list.push(x);
  };
  let i = span.start;
  let j = span.start;
  while (i < span.endBefore || j < span.endAfter) {
    const o = i < span.endBefore ? before[i] : undefined;
    const n = j < span.endAfter ? after[j] : undefined;
    if (o === n) {
      // The same object at both places (so under the same id): nothing to compare.
      i++;
      j++;
    } else if (o !== undefined && (n === undefined || o.id < n.id)) {
      add(out.before, out.byServiceBefore, o);
      i++;
    } else if (n !== undefined && (o === undefined || n.id < o.id)) {
      add(out.after, out.byServiceAfter, n);
      j++;
    } else {
      add(out.before, out.byServiceBefore, o!);
      add(out.after, out.byServiceAfter, n!);
      i++;
      j++;
    }
  }
  return out;
};

// The Services of a list in strictly ascending key order that have these keys (sorted, each
// once): a binary search each for a few keys, one walk along the list for many.
const pick = (items: readonly ServicePlan[], keys: readonly ServiceKey[]): (ServicePlan | undefined)[] => {
  if (keys.length * 16 < items.length) return keys.map((key) => find(items, key));
  const out: (ServicePlan | undefined)[] = [];
  let i = 0;
  for (const key of keys) {
    while (i < items.length && items[i]!.key < key) i++;
    out.push(i < items.length && items[i]!.key === key ? items[i] : undefined);
  }
  return out;
};

const find = (items: readonly ServicePlan[], key: ServiceKey): ServicePlan | undefined => {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = items[mid]!.key;
    if (k === key) return items[mid];
    if (k < key) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
};

/**
 * The Services' changes, comparing only what differs by identity: when the Services, frontends and
 * backends of both plans are in key order (each key once, as the planner makes them), the items
 * they share at either end are the same objects under the same keys and cannot have changed, so
 * a Service none of whose items lie between them (and whose VRRP instances are the same) is
 * unchanged, and a Service that has some is compared on those alone. The answer is
 * `everyService`'s; undefined when the plans are not in order.
 */
export const changedServices = (
  before: Plan,
  after: Plan,
  reshapedChecks: ReadonlySet<string>,
): ServicesDiff | undefined => {
  const sv = spanOf(before.services, after.services);
  if (!servicesByKey.both(before.services, after.services, sv)) return undefined;
  const fe = spanOf(before.frontends, after.frontends);
  if (!frontendsById.both(before.frontends, after.frontends, fe)) return undefined;
  const be = spanOf(before.backends, after.backends);
  if (!backendsById.both(before.backends, after.backends, be)) return undefined;

  // Only the VRRP instances that are not the very same objects can move a VIP.
  const sameVrrp = sameItems(before.vrrpInstances, after.vrrpInstances);
  const EMPTY = new Map<string, VrrpInstance>();
  const f = differing(before.frontends, after.frontends, fe);
  const b = differing(before.backends, after.backends, be);
  const l: Lookups = {
    feBefore: f.before,
    feAfter: f.after,
    beBefore: b.before,
    beAfter: b.after,
    feByServiceBefore: f.byServiceBefore,
    feByServiceAfter: f.byServiceAfter,
    beByServiceBefore: b.byServiceBefore,
    beByServiceAfter: b.byServiceAfter,
    vrrpBefore: sameVrrp ? EMPTY : vipsInstances(before),
    vrrpAfter: sameVrrp ? EMPTY : vipsInstances(after),
    reshapedChecks,
  };

  // Every key once: the shared ends hold the same keys, the middles are in order.
  const middleKeys = new Set<ServiceKey>();
  for (let k = sv.start; k < sv.endBefore; k++) middleKeys.add(before.services[k]!.key);
  for (let k = sv.start; k < sv.endAfter; k++) middleKeys.add(after.services[k]!.key);
  const keyCount = sv.start + (before.services.length - sv.endBefore) + middleKeys.size;
  // The Services that may have changed: those between the shared ends, those with a frontend or
  // backend between them, and those with a VIP in a VRRP instance that is not the same object.
  const touched = new Set<string>(middleKeys);
  for (const m of [l.feByServiceBefore, l.feByServiceAfter, l.beByServiceBefore, l.beByServiceAfter])
    for (const key of m.keys()) if (typeof key === "string") touched.add(key);
  if (!sameVrrp) {
    for (const s of [...before.services, ...after.services])
      if (s.vips.some((v) => l.vrrpBefore.get(v) !== l.vrrpAfter.get(v))) touched.add(s.key);
  }
  const candidates = sorted(touched) as ServiceKey[];
  const as = pick(before.services, candidates);
  const bs = pick(after.services, candidates);
  // A frontend or backend of a Service in neither plan is no Service's change.
  const keys: ServiceKey[] = [];
  const pairs: [ServicePlan | undefined, ServicePlan | undefined][] = [];
  for (const [i, key] of candidates.entries()) {
    if (as[i] === undefined && bs[i] === undefined) continue;
    keys.push(key);
    pairs.push([as[i], bs[i]]);
  }
  return collect(keys, (key, i) => serviceDiff(key, pairs[i]![0], pairs[i]![1], l), keyCount - keys.length);
};
