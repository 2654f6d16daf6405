import { afterAll, expect, it } from "vitest";
import { run } from "@portico/host";
import { describeWith, program, root } from "@portico/testkit";
import { renderKeepalived, validateKeepalivedIsolated } from "../src/index.js";
import { typicalPlan } from "./fixtures.js";
import type { LbNodeName } from "@portico/core";

// This run's own prefix: other runs on the machine may be checking configs at the same time.
const prefix = `portico-check-t${process.pid.toString(36)}-`;
const namespaces = async (): Promise<string[]> => {
  const r = await run("ip", ["netns", "list"]);
  return r.isOk() ? r.value.stdout.split("\n").filter((l) => l.startsWith(prefix)) : [];
};

await describeWith(
  [program("keepalived", ["--version"]), program("ip", ["-V"]), root],
  "keepalived -t in a scratch namespace",
  () => {
    afterAll(async () => {
      expect(await namespaces()).toEqual([]);
    });

    it("accepts a rendered config and leaves no namespace behind", async () => {
      const text = renderKeepalived(typicalPlan(), { node: "lb1" as LbNodeName })._unsafeUnwrap();
      const r = await validateKeepalivedIsolated(text, { interfaces: ["eth0"], namespacePrefix: prefix });
      expect(r.isOk() ? "ok" : r.error.message).toBe("ok");
      expect(await namespaces()).toEqual([]);
    });

    it("fails when the config names an interface the check was not told about", async () => {
      const text = renderKeepalived(typicalPlan(), { node: "lb1" as LbNodeName })._unsafeUnwrap();
      const r = await validateKeepalivedIsolated(text, { interfaces: ["eth1"], namespacePrefix: prefix });
      expect(r._unsafeUnwrapErr().kind).toBe("validate");
      expect(await namespaces()).toEqual([]);
    });
  },
);
