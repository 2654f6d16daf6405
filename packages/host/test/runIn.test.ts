import { describe, expect, it } from "vitest";
import { isNetnsName, runIn } from "../src/runIn.js";

describe("runIn", () => {
  it("runs here without a namespace, with the arguments as they are", async () => {
    const r = (await runIn(undefined, process.execPath, ["-e", "console.log(process.argv[1])", "a b"]))._unsafeUnwrap();
    expect(r.stdout.trim()).toBe("a b");
  });

  it("refuses a namespace name ip would read as an option, and starts nothing", async () => {
    expect(isNetnsName("-all")).toBe(false);
    expect(isNetnsName("pt1a-lb1")).toBe(true);
    const r = await runIn("-all", "nft", ["list", "ruleset"]);
    expect(r._unsafeUnwrapErr()).toMatchObject({ kind: "spawn", command: "nft" });
    expect(r._unsafeUnwrapErr().message).toContain("is not a network namespace name");
  });
});
