import type { Result } from "neverthrow";
import { isRecord } from "../_json.js";
import { preview } from "../_preview.js";
import type { Millis } from "../model.js";

/** Records one problem at a path; returns undefined so a parser can `return bad(...)`. */
export type Bad = (path: string, message: string) => undefined;

/** What the reference prints about one field. */
export interface FieldDoc {
  /** The accepted values as people read them. */
  readonly type: string;
  readonly example: string;
  readonly description: string;
  /** The default as the docs print it, when that is not the written default itself. */
  readonly defaultText?: string;
}

/**
 * One field of `portico.yaml`, declared once: the parser reads it, the defaults and the reference
 * are printed from it. A field without `default` is required when `required`, else left out.
 */
export interface ConfigField<T, C = unknown> extends FieldDoc {
  /** Parse a present value; `context` is what the field needs from other sections (the LB nodes). */
  readonly parse: (value: unknown, path: string, bad: Bad, context: C) => T | undefined;
  readonly default?: T;
  /** The default as a config would spell it (`127.0.0.1:9750`), when it differs from the parsed one. */
  readonly written?: unknown;
  readonly required?: true;
}

/** A field with a default. */
export type Defaulted<T, C = unknown> = ConfigField<T, C> & { readonly default: T };

/** A mapping of field names to fields, in the order the parser reads and the docs print them. */
export type Fields = Readonly<Record<string, ConfigField<unknown, never>>>;

/** The parsed value of a field. */
export type ValueOf<F> = F extends ConfigField<infer T, never> ? T : never;

/** Declare a field with a default. */
export const defaulted = <T, C = unknown>(field: Defaulted<T, C>): Defaulted<T, C> => field;

/** Declare a field that is required, or left out when absent. */
export const optional = <T>(field: ConfigField<T>): ConfigField<T> => field;

/** Read one field of a mapping: its default when absent (or null), else its parse. */
export const readField = <T, C>(
  field: ConfigField<T, C>,
  obj: Readonly<Record<string, unknown>>,
  key: string,
  prefix: string,
  bad: Bad,
  ...context: unknown extends C ? [] : [C]
): T | undefined => {
  const raw = obj[key];
  const path = prefix ? `${prefix}.${key}` : key;
  const ctx = context[0] as C;
  if (field.required === true) return field.parse(raw, path, bad, ctx);
  return raw === undefined || raw === null ? field.default : field.parse(raw, path, bad, ctx);
};

/** Read every field of a mapping in declared order. */
export const readFields = <F extends Fields>(
  fields: F,
  obj: Readonly<Record<string, unknown>>,
  prefix: string,
  bad: Bad,
): { -readonly [K in keyof F]: ValueOf<F[K]> | undefined } => {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields) as [string, ConfigField<unknown>][])
    out[key] = readField(field, obj, key, prefix, bad);
  return out as { -readonly [K in keyof F]: ValueOf<F[K]> | undefined };
};

/** Report every key of a mapping that is not one of the declared fields. */
export const checkKnown = (
  obj: Readonly<Record<string, unknown>>,
  known: readonly string[],
  path: string,
  bad: Bad,
): undefined => {
  for (const k of Object.keys(obj).sort()) {
    if (!known.includes(k))
      bad(path ? `${path}.${preview(k)}` : preview(k), `unknown field; known fields: ${known.join(", ")}`);
  }
  return undefined;
};

/** The names of the fields that have a default. */
export type DefaultedKeys<F> = { [K in keyof F]: F[K] extends { readonly default: unknown } ? K : never }[keyof F];

/** The parsed defaults of the fields that have one, in declared order. */
export const defaultsOf = <F extends Fields>(fields: F): { readonly [K in DefaultedKeys<F>]: ValueOf<F[K]> } =>
  Object.fromEntries(
    Object.entries(fields)
      .filter(([, f]) => f.default !== undefined)
      .map(([k, f]) => [k, f.default]),
  ) as { readonly [K in DefaultedKeys<F>]: ValueOf<F[K]> };

/** A whole number in `[min, max]`. */
export const boundedInt = (v: unknown, min: number, max: number, path: string, bad: Bad): number | undefined =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
    ? v
    : bad(path, `must be a whole number from ${min} to ${max}`);

/** `true` or `false`. */
export const bool = (v: unknown, path: string, bad: Bad): boolean | undefined =>
  typeof v === "boolean" ? v : bad(path, "must be true or false");

/** One of a closed list of strings. */
export const oneOf = <T extends string>(v: unknown, values: readonly T[], path: string, bad: Bad): T | undefined =>
  typeof v === "string" && (values as readonly string[]).includes(v)
    ? (v as T)
    : bad(path, `"${preview(v)}" is not one of ${values.join(", ")}`);

/** A mapping of the config that holds fields of its own, as the reference documents it. */
export interface Section extends FieldDoc {
  readonly defaultText: string;
  readonly fields: Readonly<Record<string, FieldDoc | Section>>;
  /** True: a list of such mappings (`pools[].name`). */
  readonly list?: true;
}

/** A mapping-valued key of the config (`healthCheck`): `{}` when absent, else it must be a mapping. */
export const readSection = <T>(
  input: Readonly<Record<string, unknown>>,
  key: string,
  bad: Bad,
  parse: (s: Readonly<Record<string, unknown>>, path: string) => T,
): T | undefined => {
  const raw = input[key] ?? {};
  if (!isRecord(raw)) return bad(key, "must be a mapping");
  return parse(raw, key);
};

/** A value parsed by one of the core's closed parsers, its error recorded at the path. */
export const parsed =
  <T>(parse: (v: unknown) => Result<T, string>) =>
  (v: unknown, path: string, bad: Bad): T | undefined =>
    parse(v).match(
      (x) => x,
      (e) => bad(path, e),
    );

/** A whole number in `[min, max]`: its docs type and its parser, from the one pair of bounds. */
export const wholeNumber = (
  min: number,
  max: number,
): { readonly type: string; readonly parse: (v: unknown, path: string, bad: Bad) => number | undefined } => ({
  type: `whole number ${min}-${max}`,
  parse: (v, path, bad) => boundedInt(v, min, max, path, bad),
});

/** {@link wholeNumber} for milliseconds. */
export const wholeMillis = (
  min: number,
  max: number,
): { readonly type: string; readonly parse: (v: unknown, path: string, bad: Bad) => Millis | undefined } =>
  wholeNumber(min, max) as ReturnType<typeof wholeMillis>;

/** `true` or `false`: its docs type and its parser. */
export const boolean = {
  type: "boolean",
  parse: (v: unknown, path: string, bad: Bad): boolean | undefined => bool(v, path, bad),
} as const;

/** Report every value that appears more than once. */
export const checkUnique = (values: readonly string[], path: string, what: string, bad: Bad): void => {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) bad(path, `${what} "${v}" appears more than once`);
    seen.add(v);
  }
};
