import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readNftablesState } from "@portico/adapter-nftables";
import { run } from "@portico/host";
import { describeWith, NetnsLab, program, root } from "@portico/testkit";
import { Registry } from "prom-client";
import { registerL4Metrics } from "../src/l4-metrics.js";
import { formatL4Status, l4StatusOf } from "../src/status-l4.js";

// `portico apply` installs the L4 ruleset: run inside a namespace made by the test (nft acts on
// the namespace it runs in, never on the host's tables), with every file in a temp directory.

const repo = resolve(import.meta.dirname, "../../..");
const quickstart = join(repo, "examples/quickstart");
const bin = join(repo, "packages/cli/dist/bin.js");

await describeWith([program("nft", ["--version"]), program("ip", ["-V"]), root], "portico apply: nftables", () => {
  const lab = new NetnsLab();
  let dir = "";
  let config = "";
  let cluster = "";
  let ns = "";
  const apply = async () => {
    const r = await run("ip", [
      "netns",
      "exec",
      ns,
      process.execPath,
      bin,
      "apply",
      "--cluster",
      cluster,
      "--config",
      config,
      "--node",
      "lb1",
    ]);
    return r._unsafeUnwrap();
  };

  beforeAll(async () => {
    dir = await mkdtemp("/tmp/portico-apply-nft-");
    config = join(dir, "portico.yaml");
    const base = await readFile(join(quickstart, "portico.yaml"), "utf8");
    await writeFile(
      config,
      `${base}haproxy:\n  configPath: ${dir}/etc/haproxy.cfg\n  statsSocket: ${dir}/admin.sock\n  masterSocket: ${dir}/master.sock\n` +
        `keepalived:\n  apply: false\nnftables:\n  configPath: ${dir}/etc/nftables.conf\n`,
    );
    await mkdir(join(dir, "etc"));
    cluster = join(dir, "cluster.yaml");
    await writeFile(cluster, await readFile(join(quickstart, "cluster.yaml"), "utf8"));
    ns = await lab.add("nftapply");
    await lab.addInterface(ns, "eth0");
  });
  afterAll(async () => {
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes nftables.conf and loads it in the namespace it runs in: shop/api's UDP 8443 has its table", async () => {
    const first = await apply();
    expect(first.stdout).toContain(`nftables: wrote ${dir}/etc/nftables.conf and loaded it (nft -f)`);
    const listed = (await lab.exec(ns, "nft", ["list", "table", "inet", "portico"]))._unsafeUnwrap().stdout;
    const api = readNftablesState(listed).listeners.find((l) => l.id.includes("api"));
    expect(api?.shares.map((s) => [s.target, s.slots])).toEqual([["198.18.2.12 . 30894", 16381]]);
    // What portico status shows of it: the node's share of the table and the rule's counters.
    expect(formatL4Status(l4StatusOf([listed]))).toEqual([
      "",
      "L4 (nftables): 1 listener",
      `  ${api!.id}  nat  Maglev 16381  forwarded 0, denied 0, no node 0 packets`,
      "    198.18.2.12 . 30894  16381 slots (100%)",
    ]);
  });

  it("exports what the kernel runs as metrics, and the health loop's verdicts and changes", async () => {
    // The tables as nft lists them in the namespace: nothing was sent, so every counter is 0.
    const listed = async () => {
      const inet = (await lab.exec(ns, "nft", ["list", "table", "inet", "portico"]))._unsafeUnwrap().stdout;
      return l4StatusOf([inet]);
    };
    const status = await listed();
    const id = ("listeners" in status ? status.listeners : []).find((l) => l.id.includes("api"))?.id;
    expect(id).toBeDefined();
    const registry = new Registry();
    const check = "chk_shop_api";
    const metrics = registerL4Metrics(registry, { read: listed, down: () => new Map([[check, new Set(["node-b"])]]) });
    metrics.moved({ down: new Map(), tookMs: 23 });
    metrics.moved({ down: new Map(), tookMs: 40, error: "nft: busy" });
    metrics.lost();
    const text = await registry.metrics();
    expect(text).toContain('portico_l4_listeners{mode="nat"} 1');
    expect(text).toContain('portico_l4_listeners{mode="direct"} 0');
    expect(text).toContain(`portico_l4_table_slots{listener="${id!}",target="198.18.2.12 . 30894"} 16381`);
    expect(text).toContain(`portico_l4_packets_total{listener="${id!}",verdict="forwarded"} 0`);
    expect(text).toContain(`portico_l4_nodes_down{check="${check}"} 1`);
    expect(text).toContain('portico_l4_membership_changes_total{result="loaded"} 1');
    expect(text).toContain('portico_l4_membership_changes_total{result="failed"} 1');
    expect(text).toContain('portico_l4_membership_change_seconds_bucket{le="0.025"} 1');
    expect(text).toContain("portico_l4_tables_lost_total 1");
  });
});
