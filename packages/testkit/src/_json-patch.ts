// The two generic patch formats the API server takes for JSON bodies; strategic merge patch, for
// Services only, is in _strategic-merge.ts (any other kind gets 415).

/** RFC 7386 JSON merge patch: `null` deletes a key, objects merge, anything else replaces. */
export const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const isObject = typeof target === "object" && target !== null && !Array.isArray(target);
  const out: Record<string, unknown> = isObject ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
};

interface Operation {
  readonly op: string;
  readonly path: string;
  readonly value?: unknown;
}

/** RFC 6902 JSON patch (add, remove, replace, test) on a copy the caller owns. */
export const jsonPatch = (doc: unknown, ops: unknown): { ok: unknown } | { failed: string } => {
  if (!Array.isArray(ops)) return { failed: "a JSON patch must be a list of operations" };
  let root = doc;
  for (const op of ops as Operation[]) {
    const segments = op.path
      .split("/")
      .slice(1)
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = segments.pop();
    if (last === undefined) {
      if (op.op === "replace" || op.op === "add") root = op.value;
      continue;
    }
    let parent: unknown = root;
    for (const s of segments)
      parent = Array.isArray(parent) ? parent[Number(s)] : (parent as Record<string, unknown> | undefined)?.[s];
    const invalid = (message: string) => ({ failed: message });
    if (typeof parent !== "object" || parent === null) return invalid(`${op.op} ${op.path}: the parent does not exist`);
    const record = parent as Record<string, unknown>;
    const index = Array.isArray(parent) ? (last === "-" ? parent.length : Number(last)) : -1;
    const current = Array.isArray(parent) ? parent[index] : record[last];
    switch (op.op) {
      case "test":
        if (JSON.stringify(current) !== JSON.stringify(op.value)) return invalid(`test ${op.path} failed`);
        break;
      case "add":
        if (Array.isArray(parent)) parent.splice(index, 0, op.value);
        else record[last] = op.value;
        break;
      case "replace":
        if (current === undefined) return invalid(`replace ${op.path}: no such value`);
        if (Array.isArray(parent)) parent[index] = op.value;
        else record[last] = op.value;
        break;
      case "remove":
        if (current === undefined) return invalid(`remove ${op.path}: no such value`);
        if (Array.isArray(parent)) parent.splice(index, 1);
        else delete record[last];
        break;
      default:
        return invalid(`operation ${op.op} is not supported`);
    }
  }
  return { ok: root };
};
