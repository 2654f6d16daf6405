import { err, ok, type Result } from "neverthrow";
import { preview } from "./_preview.js";

/** A label selector operator, as in `metav1.LabelSelectorRequirement`. */
export type SelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

/** One requirement of a label selector. */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Sorted; empty for Exists and DoesNotExist. */
  readonly values: readonly string[];
}

/** A parsed label selector: every requirement must hold. The empty selector matches everything. */
export interface LabelSelector {
  readonly requirements: readonly SelectorRequirement[];
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const isKey = (k: string): boolean => k.length <= 316 && KEY.test(k) && (k.split("/").pop() ?? "").length <= 63;
const isValue = (v: string): boolean => v.length <= 63 && VALUE.test(v);

/** Whether a set of labels satisfies a selector, with Kubernetes' semantics (NotIn matches an absent key). */
export const matchesSelector = (selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean =>
  selector.requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.operator) {
      case "In":
        return has && value !== undefined && r.values.includes(value);
      case "NotIn":
        return !has || value === undefined || !r.values.includes(value);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
    }
  });

const requirement = (
  key: string,
  operator: SelectorOperator,
  values: readonly string[],
): Result<SelectorRequirement, string> => {
  if (!isKey(key)) return err(`"${preview(key)}" is not a label key`);
  for (const v of values) if (!isValue(v)) return err(`"${preview(v)}" is not a label value`);
  if ((operator === "In" || operator === "NotIn") && values.length === 0)
    return err(`${operator} on "${preview(key)}" needs at least one value`);
  return ok({ key, operator, values: [...new Set(values)].sort() });
};

const sortRequirements = (list: SelectorRequirement[]): LabelSelector => ({
  requirements: list.sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : a.operator < b.operator ? -1 : a.operator > b.operator ? 1 : 0,
  ),
});

/**
 * Parse the string form of a label selector, as `kubectl -l` takes it: comma-separated
 * `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key`, `!key`.
 */
export const parseSelectorString = (text: string): Result<LabelSelector, string> => {
  if (text.length > 4096) return err("the selector is longer than 4096 characters");
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of text) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (depth < 0) return err("unbalanced parentheses");
    if (c === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  if (depth !== 0) return err("unbalanced parentheses");
  parts.push(current);
  const out: SelectorRequirement[] = [];
  for (const raw of parts) {
    const p = raw.trim();
    if (p === "") {
      if (parts.length === 1) break; // the empty selector
      return err("empty requirement between commas");
    }
    let m: RegExpExecArray | null;
    let r: Result<SelectorRequirement, string>;
    if ((m = /^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$/.exec(p)) !== null) {
      r = requirement(
        m[1]!,
        m[2] === "in" ? "In" : "NotIn",
        m[3]!.split(",").map((v) => v.trim()),
      );
    } else if ((m = /^(\S+?)\s*(!=|==|=)\s*(\S*)$/.exec(p)) !== null) {
      r = requirement(m[1]!, m[2] === "!=" ? "NotIn" : "In", [m[3]!]);
    } else if ((m = /^!\s*(\S+)$/.exec(p)) !== null) {
      r = requirement(m[1]!, "DoesNotExist", []);
    } else if (/^\S+$/.test(p)) {
      r = requirement(p, "Exists", []);
    } else
      return err(
        `"${preview(p)}" is not a selector requirement ` +
          `(key=value, key!=value, key in (a,b), key notin (a,b), key, !key)`,
      );
    if (r.isErr()) return err(r.error);
    out.push(r.value);
  }
  return ok(sortRequirements(out));
};

/** Parse the object form (`matchLabels`, `matchExpressions`) used in the config. */
export const parseSelectorObject = (input: unknown): Result<LabelSelector, string> => {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    return err("must be a mapping with matchLabels and/or matchExpressions");
  const obj = input as Record<string, unknown>;
  for (const k of Object.keys(obj))
    if (k !== "matchLabels" && k !== "matchExpressions")
      return err(`unknown field "${preview(k)}"; known fields: matchLabels, matchExpressions`);
  const out: SelectorRequirement[] = [];
  const labels = obj["matchLabels"] ?? {};
  if (typeof labels !== "object" || labels === null || Array.isArray(labels))
    return err("matchLabels must be a mapping of label keys to values");
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== "string") return err(`matchLabels["${preview(k)}"] must be a string`);
    const r = requirement(k, "In", [v]);
    if (r.isErr()) return err(`matchLabels: ${r.error}`);
    out.push(r.value);
  }
  const exprs = obj["matchExpressions"] ?? [];
  if (!Array.isArray(exprs)) return err("matchExpressions must be a list");
  for (const [i, e] of exprs.entries()) {
    const x = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
    const op = x["operator"];
    if (op !== "In" && op !== "NotIn" && op !== "Exists" && op !== "DoesNotExist")
      return err(`matchExpressions[${i}].operator: "${preview(op)}" is not one of In, NotIn, Exists, DoesNotExist`);
    const values = x["values"] ?? [];
    if (!Array.isArray(values) || !values.every((v): v is string => typeof v === "string"))
      return err(`matchExpressions[${i}].values must be a list of strings`);
    if ((op === "Exists" || op === "DoesNotExist") && values.length > 0)
      return err(`matchExpressions[${i}]: ${op} takes no values`);
    const r = requirement(typeof x["key"] === "string" ? x["key"] : "", op, values);
    if (r.isErr()) return err(`matchExpressions[${i}]: ${r.error}`);
    out.push(r.value);
  }
  return ok(sortRequirements(out));
};

/** The selector in the string form, for messages and docs. */
export const formatSelector = (s: LabelSelector): string =>
  s.requirements
    .map((r) =>
      r.operator === "Exists"
        ? r.key
        : r.operator === "DoesNotExist"
          ? `!${r.key}`
          : r.values.length === 1
            ? `${r.key}${r.operator === "In" ? "=" : "!="}${r.values[0]}`
            : `${r.key} ${r.operator.toLowerCase()} (${r.values.join(",")})`,
    )
    .join(",");
