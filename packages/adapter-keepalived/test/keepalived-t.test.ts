import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LbNode, Plan } from "@portico/core";
import { describeWith, must, NetnsLab, program, root } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { renderKeepalived, validateKeepalived } from "../src/index.js";
import { goldenCases, statsCheckPlan, typicalPlan } from "./fixtures.js";

const withPrefix = (node: LbNode): string => `${node.address}/${node.address.includes(":") ? 64 : 24}`;

await describeWith(
  [program("keepalived", ["--version"]), program("ip", ["-V"]), root],
  "keepalived -t accepts what Portico renders",
  () => {
    const lab = new NetnsLab();
    // One namespace per golden case and LB node: its interface, holding that node's address.
    const namespaces = new Map<string, string>();
    const cases = goldenCases.flatMap((c) =>
      c.plan().lbNodes.map((node) => ({ name: `${c.name}-${node.name}`, plan: c.plan(), node })),
    );

    beforeAll(async () => {
      for (const c of cases) {
        const ns = await lab.add(c.name);
        await lab.addInterface(ns, c.node.interface);
        await must("ip", ["-n", ns, "addr", "add", withPrefix(c.node), "dev", c.node.interface]);
        namespaces.set(c.name, ns);
      }
    });

    afterAll(async () => {
      await lab.destroy();
    });

    // keepalived -t refuses a check program that is not there (see below): the stats check's
    // program, which the Debian package installs, stands in as a root-owned one that exists here.
    const withProgram = (plan: Plan): Plan => {
      const check = plan.settings.vrrp.haproxyCheck;
      return check?.kind !== "stats"
        ? plan
        : {
            ...plan,
            settings: {
              ...plan.settings,
              vrrp: { ...plan.settings.vrrp, haproxyCheck: { ...check, program: "/usr/bin/true" } },
            },
          };
    };

    for (const c of cases) {
      it(`accepts ${c.name}`, async () => {
        const text = renderKeepalived(withProgram(c.plan), { node: c.node.name })._unsafeUnwrap();
        const result = await validateKeepalived(text, {
          netns: namespaces.get(c.name) ?? "missing",
          timeoutMs: 20_000,
        });
        expect(result.isOk(), JSON.stringify(result.isErr() ? result.error : undefined)).toBe(true);
      });
    }

    it("rejects a stats check whose program is not installed, so such a config is never installed", async () => {
      const text = renderKeepalived(statsCheckPlan(), { node: "lb1" as LbNode["name"] })._unsafeUnwrap();
      const result = await validateKeepalived(text, { netns: namespaces.get("stats-check-lb1") ?? "missing" });
      expect(result._unsafeUnwrapErr().message).toContain("Disabling track script haproxy since not found");
    });

    it("rejects a config whose interface does not exist there, as kind validate with a hint", async () => {
      const base = typicalPlan();
      const plan: Plan = { ...base, lbNodes: base.lbNodes.map((n) => ({ ...n, interface: "nosuch0" })) };
      const text = renderKeepalived(plan, { node: base.lbNodes[0]!.name })._unsafeUnwrap();
      const result = await validateKeepalived(text, { netns: namespaces.get("typical-lb1") ?? "missing" });
      expect(result.isErr()).toBe(true);
      const error = result._unsafeUnwrapErr();
      expect(error.kind).toBe("validate");
      expect(error.adapter).toBe("keepalived");
      expect(error.message).toContain("nosuch0");
      // keepalived's lines name the file we wrote, not the throw-away temp path.
      expect(error.message).not.toContain("portico-keepalived-");
      expect(error.hint).toMatch(/interface .* must exist where validation runs/);
    });

    it("rejects what keepalived cannot parse", async () => {
      const result = await validateKeepalived("global_defs {\n    no_such_keyword 1\n}\n", {
        netns: namespaces.get("empty-lb1") ?? "missing",
      });
      expect(result._unsafeUnwrapErr().kind).toBe("validate");
      expect(result._unsafeUnwrapErr().message).toContain("no_such_keyword");
    });

    it("reports a keepalived missing inside the namespace as unavailable", async () => {
      const result = await validateKeepalived("", {
        netns: namespaces.get("empty-lb1") ?? "missing",
        binary: "/nonexistent/keepalived",
      });
      expect(result._unsafeUnwrapErr().kind).toBe("unavailable");
      expect(result._unsafeUnwrapErr().hint).toBe("apt-get install -y keepalived");
    });

    it("reports a namespace that does not exist as a failed validation, never as Ok", async () => {
      const result = await validateKeepalived("", { netns: `${lab.prefix}does-not-exist` });
      expect(result._unsafeUnwrapErr().kind).toBe("validate");
    });

    it("leaves no temporary directory behind", async () => {
      // A private TMPDIR (this file runs in its own process) so other test files cannot interfere.
      const saved = process.env["TMPDIR"];
      const dir = await mkdtemp(join(tmpdir(), "portico-keepalived-test-"));
      process.env["TMPDIR"] = dir;
      try {
        const text = renderKeepalived(typicalPlan(), { node: typicalPlan().lbNodes[0]!.name })._unsafeUnwrap();
        expect((await validateKeepalived(text, { netns: namespaces.get("typical-lb1") ?? "missing" })).isOk()).toBe(
          true,
        );
        expect(await readdir(dir)).toEqual([]);
      } finally {
        if (saved === undefined) delete process.env["TMPDIR"];
        else process.env["TMPDIR"] = saved;
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);
