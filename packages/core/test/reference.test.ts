import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { ANNOTATIONS, type AnnotationSpec } from "../src/annotations.js";
import { CONFIG_FIELDS, renderReference } from "../src/reference.js";
import { aConfig } from "../src/testing/index.js";

const REFERENCE = fileURLToPath(new URL("../../../docs/reference.md", import.meta.url));

// The fields the parser itself knows at one level, read from its own "unknown field" message.
const knownAt = (section: string): string[] => {
  const base = aConfig() as Record<string, unknown>;
  const withUnknown: Record<string, unknown> = structuredClone(base);
  const target: Record<string, unknown> =
    section === ""
      ? withUnknown
      : section === "pools[]"
        ? ((withUnknown["pools"] as Record<string, unknown>[])[0] as Record<string, unknown>)
        : section === "lbNodes[]"
          ? ((withUnknown["lbNodes"] as Record<string, unknown>[])[0] as Record<string, unknown>)
          : ((withUnknown[section] = {}) as Record<string, unknown>);
  target["zzUnknown"] = 1;
  const issue = parseConfig(withUnknown)
    ._unsafeUnwrapErr()
    .find((i) => i.path.endsWith("zzUnknown"));
  return (/known fields: (.*)$/.exec(issue?.message ?? "")?.[1] ?? "").split(", ").sort();
};

const documentedAt = (section: string): string[] =>
  CONFIG_FIELDS.map((f) => f.path)
    .filter((p) =>
      section === ""
        ? !p.includes(".") && !p.includes("[")
        : p.startsWith(`${section}.`) && !p.slice(section.length + 1).includes("."),
    )
    .map((p) => (section === "" ? p : p.slice(section.length + 1)))
    .sort();

describe("the generated reference", () => {
  it("docs/reference.md is what npm run docs:reference writes (regenerate it when this fails)", async () => {
    expect(await readFile(REFERENCE, "utf8")).toBe(renderReference());
  });

  it("documents every config field the parser accepts, and no other", () => {
    for (const section of [
      "",
      "pools[]",
      "lbNodes[]",
      "healthCheck",
      "vrrp",
      "haproxy",
      "keepalived",
      "controller",
      "tuning",
    ]) {
      expect(documentedAt(section), `section ${section || "(top level)"}`).toEqual(knownAt(section));
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
