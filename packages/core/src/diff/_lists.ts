import type { Plan, VrrpInstance } from "../plan/types.js";

export const byKey = <T>(items: readonly T[], key: (t: T) => string): Map<string, T> => {
  const out = new Map<string, T>();
  for (const i of items) out.set(key(i), i);
  return out;
};
export const sorted = <T>(items: Iterable<T>): T[] => [...items].sort();

export const groupBy = <T extends { readonly service: string }>(items: readonly T[]): Map<string, T[]> => {
  const out = new Map<string, T[]>();
  for (const i of items) {
    const list = out.get(i.service);
    if (list === undefined) out.set(i.service, [i]);
    else list.push(i);
  }
  return out;
};

// Each VIP's VRRP instance.
export const vipsInstances = (p: Plan): Map<string, VrrpInstance> => {
  const out = new Map<string, VrrpInstance>();
  for (const i of p.vrrpInstances) for (const v of i.vips) out.set(v, i);
  return out;
};
