import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { bigIntToIp, cidrContains, parseCidr, parseRange, type Cidr } from "@portico/core";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { CLEANUP_FINALIZER } from "../src/index.js";

// The shipped ValidatingAdmissionPolicy, read as the API server would receive it. There is no
// API server (and no CEL evaluator) here, so this checks what can be checked without one: that
// it applies to exactly Portico's ServiceAccount and to every Service write RBAC grants it, that
// its finalizer and pools are Portico's, and that each rule guards the field it is about.
const deploy = join(resolve(import.meta.dirname, "../../.."), "examples/deploy");

interface Policy {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly policyName?: string;
    readonly validationActions?: string[];
    readonly failurePolicy?: string;
    readonly matchConstraints?: {
      readonly resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[];
    };
    readonly matchConditions?: { name: string; expression: string }[];
    readonly variables?: { name: string; expression: string }[];
    readonly validations?: { expression: string; message: string; reason: string }[];
  };
}

const load = async (file: string) =>
  parseAllDocuments(await readFile(join(deploy, file), "utf8")).map((d) => d.toJS() as Policy);

describe("examples/deploy/admission-policy.yaml", async () => {
  const [policy, binding] = await load("admission-policy.yaml");
  const rbac = await load("rbac.yaml");
  const variable = (name: string) => policy!.spec.variables!.find((v) => v.name === name)!.expression;
  const validations = policy!.spec.validations!;

  it("is one policy and a binding that denies what it rejects, failing closed", () => {
    expect([policy?.kind, binding?.kind]).toEqual(["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);
    expect(binding!.spec.policyName).toBe(policy!.metadata.name);
    expect(binding!.spec.validationActions).toEqual(["Deny"]);
    expect(policy!.spec.failurePolicy).toBe("Fail");
  });

  it("applies only to the ServiceAccount that rbac.yaml creates", () => {
    const sa = rbac.find((d) => d.kind === "ServiceAccount")!.metadata as { name: string; namespace: string };
    expect(policy!.spec.matchConditions).toEqual([
      {
        name: "portico-service-account",
        expression: `request.userInfo.username == 'system:serviceaccount:${sa.namespace}:${sa.name}'`,
      },
    ]);
  });

  it("covers every Service write the ClusterRole grants (a patch reaches admission as UPDATE)", () => {
    const role = rbac.find((d) => d.kind === "ClusterRole") as unknown as {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    const written = role.rules
      .filter((r) => r.verbs.some((v) => ["patch", "update"].includes(v)))
      .flatMap((r) => r.resources.filter((x) => x.startsWith("services")));
    expect(written.sort()).toEqual(["services", "services/status"]);
    const rules = policy!.spec.matchConstraints!.resourceRules;
    for (const resource of written)
      expect(
        rules.some(
          (r) => r.apiGroups.includes("") && r.operations.includes("UPDATE") && r.resources.includes(resource),
        ),
        resource,
      ).toBe(true);
  });

  it("lets the finalizer Portico writes, and only it, change", () => {
    expect(variable("finalizer")).toBe(`'${CLEANUP_FINALIZER}'`);
    const rule = validations.find((v) => v.expression.includes("variables.finalizer"))!;
    // Both sides with Portico's finalizer removed must be equal: any other finalizer added or removed differs.
    expect(rule.expression).toMatch(
      /variables\.newFinalizers\.filter\(f, f != variables\.finalizer\) ==\s*variables\.oldFinalizers\.filter\(f, f != variables\.finalizer\)/,
    );
  });

  it("keeps spec, labels, annotations and owners of the main resource as they were", () => {
    const main = validations.filter((v) => v.expression.startsWith("request.subResource == 'status' ||"));
    const guarded = main.map((v) => v.expression).join(" ");
    for (const field of ["spec", "metadata.labels", "metadata.annotations", "metadata.ownerReferences"]) {
      expect(guarded, field).toContain(` object.${field}`);
      expect(guarded, field).toContain(`oldObject.${field}`);
    }
    expect(main.some((v) => /object\.spec == oldObject\.spec/.test(v.expression))).toBe(true);
  });

  it("publishes only ingress IPs inside pools that cover every pool of the example config", async () => {
    const rule = validations.find((v) => v.expression.startsWith("request.subResource != 'status' ||"))!;
    expect(rule.expression).toContain("!has(i.hostname) && has(i.ip)");
    expect(rule.expression).toContain("variables.pools.exists(c, cidr(c).containsIP(ip(i.ip)))");
    const cidrs = [...variable("pools").matchAll(/'([^']+)'/g)].map((m) => parseCidr(m[1]!)._unsafeUnwrap());
    const config = parse(await readFile(join(deploy, "portico.yaml"), "utf8")) as {
      pools: { addresses: string[] }[];
    };
    const covered = (c: Cidr, first: string, last: string) =>
      cidrContains(c, first as never) && cidrContains(c, last as never);
    for (const text of config.pools.flatMap((p) => p.addresses)) {
      const range = parseRange(text)._unsafeUnwrap();
      const [first, last] = [bigIntToIp(range.first, range.family), bigIntToIp(range.last, range.family)];
      expect(
        cidrs.some((c) => covered(c, first, last)),
        `${text} in ${cidrs.join(", ")}`,
      ).toBe(true);
    }
  });
});
