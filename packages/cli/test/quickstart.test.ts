import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateHaproxy } from "@portico/adapter-haproxy";
import { validateKeepalived } from "@portico/adapter-keepalived";
import { validateNftables } from "@portico/adapter-nftables";
import { describeWith, expectGolden, NetnsLab, program, root } from "@portico/testkit";
import { main, type Io } from "../src/index.js";

// The quickstart example rendered end to end, compared with committed goldens and checked by the
// real binaries. PORTICO_UPDATE_GOLDEN=1 (npm run golden:update) rewrites the goldens.
const repo = resolve(import.meta.dirname, "../../..");
const example = join(repo, "examples/quickstart");
const goldenDir = join(import.meta.dirname, "golden/quickstart");
const NODES = ["lb1", "lb2"] as const;
const FILES = ["haproxy.cfg", "keepalived.conf", "status.json", "plan.json", "nftables.conf"] as const;

const quiet: Io = { stdout: () => undefined, stderr: () => undefined, env: {}, cwd: repo };
let out = "";

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "portico-quickstart-"));
  for (const node of NODES) {
    const code = await main(
      [
        "render",
        "--cluster",
        join(example, "cluster.yaml"),
        "--config",
        join(example, "portico.yaml"),
        "--node",
        node,
        "--out",
        join(out, node),
      ],
      quiet,
    );
    // shop/broken cannot be planned: exit 1, files still written.
    expect(code).toBe(1);
  }
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe("quickstart render", () => {
  for (const node of NODES) {
    for (const file of FILES) {
      it(`${node}/${file} matches its golden byte for byte`, async () => {
        await expectGolden(join(goldenDir, node, file), await readFile(join(out, node, file), "utf8"));
      });
    }
  }
});

await describeWith([program("haproxy", ["-v"])], "quickstart haproxy.cfg on the real haproxy", () => {
  it("passes haproxy -c", async () => {
    const text = await readFile(join(out, "lb1", "haproxy.cfg"), "utf8");
    const r = await validateHaproxy(text, {});
    expect(r.isOk() ? "ok" : r.error.message).toBe("ok");
  });
});

await describeWith(
  [program("keepalived", ["--version"]), program("ip", ["-V"]), root],
  "quickstart keepalived.conf on the real keepalived",
  () => {
    const lab = new NetnsLab();
    afterAll(() => lab.destroy());

    it.each(NODES)("%s passes keepalived -t where eth0 exists", async (node) => {
      const ns = await lab.add(`qs-${node}`);
      await lab.addInterface(ns, "eth0");
      const text = await readFile(join(out, node, "keepalived.conf"), "utf8");
      const r = await validateKeepalived(text, { netns: ns });
      expect(r.isOk() ? "ok" : `${r.error.message}\n${r.error.hint ?? ""}`).toBe("ok");
    });
  },
);

await describeWith(
  [program("nft", ["--version"]), program("ip", ["-V"]), root],
  "quickstart nftables.conf on the real nft",
  () => {
    const lab = new NetnsLab();
    afterAll(() => lab.destroy());

    it.each(NODES)("%s passes nft -c where eth0 exists (shop/api's UDP 8443 is served)", async (node) => {
      const ns = await lab.add(`qn-${node}`);
      await lab.addInterface(ns, "eth0");
      const text = await readFile(join(out, node, "nftables.conf"), "utf8");
      expect(text).toContain("udp dport 8443");
      const r = await validateNftables(text, { netns: ns });
      expect(r.isOk() ? "ok" : `${r.error.message}\n${r.error.hint ?? ""}`).toBe("ok");
    });
  },
);
