import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../src/config.js";
import { ANNOTATIONS, type AnnotationSpec } from "../src/annotations.js";
import { CONFIG_FIELDS, renderReference } from "../src/reference.js";
import { aConfig } from "../src/testing/index.js";

const REFERENCE = fileURLToPath(new URL("../../../docs/reference.md", import.meta.url));

type Json = Record<string, unknown>;

// The documented example with a bgp section, so that bgp's own fields have a section to sit in.
const base = (): Json => ({ ...aConfig(), bgp: { asn: 64512, peers: [{ address: "198.18.1.254", asn: 64500 }] } });

// Put a value at a documented path (`pools[].name` is the first pool's name) of a copy of the config.
const withValue = (config: Json, path: string, value: unknown): Json => {
  const out = structuredClone(config);
  const parts = path.split(".");
  let at: Json = out;
  parts.forEach((raw, i) => {
    const list = raw.endsWith("[]");
    const key = list ? raw.slice(0, -2) : raw;
    if (i === parts.length - 1) at[key] = value;
    else if (list) at = (at[key] as Json[])[0]!;
    else at = (at[key] ??= {}) as Json;
  });
  return out;
};

// The rows that hold other rows (`healthCheck`, `pools[]`), and the names of the fields directly in each.
const sections = (): Map<string, string[]> => {
  const out = new Map<string, string[]>();
  for (const { path } of CONFIG_FIELDS) {
    const dot = path.lastIndexOf(".");
    const parent = dot < 0 ? "" : path.slice(0, dot);
    out.set(parent, [...(out.get(parent) ?? []), path.slice(dot + 1)]);
  }
  return out;
};

describe("the generated reference", () => {
  it("docs/reference.md is what npm run docs:reference writes (regenerate it when this fails)", async () => {
    expect(await readFile(REFERENCE, "utf8")).toBe(renderReference());
  });

  it("every documented field's example is accepted by the parser at that field", () => {
    for (const f of CONFIG_FIELDS.filter((x) => !x.example.includes("..."))) {
      const r = parseConfig(withValue(base(), f.path, parseYaml(f.example)));
      expect(r.isOk() ? [] : r.error, f.path).toEqual([]);
    }
  });

  it("the parser refuses a field the reference does not document, naming exactly the documented ones", () => {
    for (const [section, names] of sections()) {
      if (section.startsWith("serviceDefaults")) continue;
      const path = section === "" ? "zzUnknown" : `${section}.zzUnknown`;
      const issues = parseConfig(withValue(base(), path, 1))._unsafeUnwrapErr();
      const unknown = issues.find((i) => i.path === path.replace(/\[\]/g, "[0]"));
      expect(unknown?.message, section || "(top level)").toBe(`unknown field; known fields: ${names.join(", ")}`);
    }
  });

  it("documents every annotation the parser knows, and every example parses", () => {
    const text = renderReference();
    for (const spec of Object.values(ANNOTATIONS) as readonly AnnotationSpec<unknown>[]) {
      expect(text).toContain(`\`${spec.key}\``);
      expect(spec.parse(spec.example).isOk(), spec.key).toBe(true);
    }
  });

  it("every serviceDefaults example parses with the config parser", () => {
    const defaults = Object.fromEntries(
      CONFIG_FIELDS.filter((f) => f.path.startsWith("serviceDefaults.")).map((f) => [
        f.path.slice("serviceDefaults.".length),
        f.example,
      ]),
    );
    expect(parseConfig({ ...aConfig(), serviceDefaults: defaults }).isOk()).toBe(true);
  });
});
