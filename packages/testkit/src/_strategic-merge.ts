// kube-apiserver's strategic merge patch, for the fields of core/v1 Services the tests patch: as
// JSON merge patch (`null` deletes a key, objects merge), except that a list with a patch strategy
// of "merge" merges instead of being replaced. Lists of objects merge by their patchMergeKey, an
// item `{<key>: ..., $patch: delete}` removes that item; a list of strings merges as a set. Every
// other list (status.loadBalancer.ingress is `listType=atomic`) is replaced, as upstream.

/** The merge key of every list with patchStrategy "merge" in a Service, by path; `null` for a list of strings. */
const SERVICE_MERGE_LISTS: Readonly<Record<string, string | null>> = {
  "status.conditions": "type",
  "spec.ports": "port",
  "metadata.ownerReferences": "uid",
  "metadata.finalizers": null,
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Apply a strategic merge patch to a Service. */
export const strategicMergeService = (target: unknown, patch: unknown, path = ""): unknown => {
  if (!isObject(patch)) return patch;
  const out: Json = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    const at = path === "" ? k : `${path}.${k}`;
    if (v === null) delete out[k];
    else if (Array.isArray(v) && at in SERVICE_MERGE_LISTS) out[k] = mergeList(out[k], v, SERVICE_MERGE_LISTS[at]!);
    else out[k] = strategicMergeService(out[k], v, at);
  }
  return out;
};

const mergeList = (target: unknown, patch: readonly unknown[], key: string | null): unknown[] => {
  const list = Array.isArray(target) ? [...(target as unknown[])] : [];
  if (key === null) return [...list, ...patch.filter((v) => !list.includes(v))];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const at = list.findIndex((x) => isObject(x) && x[key] === item[key]);
    if (item["$patch"] === "delete") {
      if (at >= 0) list.splice(at, 1);
      continue;
    }
    if (at >= 0) list[at] = strategicMergeService(list[at], item);
    else list.push(item);
  }
  return list;
};
