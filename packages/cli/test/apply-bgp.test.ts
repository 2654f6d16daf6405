import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { run } from "@portico/host";
import { describeWith, must, NetnsLab, program, root } from "@portico/testkit";

// `portico apply` (the built binary) inside an LB namespace made by the test, with a bgp section:
// it installs bird.conf, starts BIRD and puts the node's BGP VIPs on lo. HAProxy does not run, so
// nothing can be served and every VIP is rendered withdrawn.

const repo = resolve(import.meta.dirname, "../../..");
const BIN = join(repo, "packages/cli/dist/bin.js");
const cluster = join(repo, "examples/quickstart/cluster.yaml");

await describeWith([root, program("bird", ["--version"]), program("haproxy", ["-v"])], "portico apply with BGP", () => {
  const lab = new NetnsLab();
  let dir = "";
  let ns = "";

  beforeAll(async () => {
    dir = await mkdtemp("/tmp/portico-apply-bgp-");
    ns = await lab.add("lb1");
    await lab.addInterface(ns, "eth0");
    await must("ip", ["-n", ns, "addr", "add", "198.18.1.1/24", "dev", "eth0"]);
    await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    // Stale: an address of the BGP pool that no Service has; apply takes it off lo.
    await must("ip", ["-n", ns, "addr", "add", "198.18.100.49/32", "dev", "lo"]);
    await writeFile(
      join(dir, "portico.yaml"),
      [
        "apiVersion: portico.dev/v1alpha1",
        "kind: PorticoConfig",
        'pools: [{name: default, addresses: ["198.18.100.10-198.18.100.50"], announce: bgp}]',
        "lbNodes: [{name: lb1, address: 198.18.1.1, interface: eth0}, {name: lb2, address: 198.18.1.2, interface: eth0}]",
        `haproxy: {configPath: ${dir}/haproxy.cfg, statsSocket: ${dir}/admin.sock, masterSocket: ${dir}/master.sock}`,
        "keepalived: {apply: false}",
        `bgp: {asn: 64512, peers: [{address: 198.18.1.254, asn: 64500}], configPath: ${dir}/bird.conf, socket: ${dir}/bird.ctl}`,
        "",
      ].join("\n"),
    );
  }, 30_000);

  afterAll(async () => {
    await run("birdc", ["-s", join(dir, "bird.ctl"), "down"], { timeoutMs: 5_000 });
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it("installs bird.conf, starts BIRD, puts the VIPs on lo and announces none while HAProxy serves nothing", async () => {
    const args = ["netns", "exec", ns, process.execPath, BIN, "apply", "--cluster", cluster];
    const r = (
      await run("ip", [...args, "--config", join(dir, "portico.yaml"), "--node", "lb1"], { timeoutMs: 60_000 })
    )._unsafeUnwrap();
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`bird: wrote ${dir}/bird.conf and started bird`);
    const bird = await readFile(join(dir, "bird.conf"), "utf8");
    expect(bird).toContain("route 198.18.100.10/32 blackhole;");
    expect(bird).toMatch(/protocol static vip4_c612640a \{\n {2}ipv4;\n {2}disabled yes;/);
    const lo = (await run("ip", ["-n", ns, "-o", "addr", "show", "dev", "lo"]))._unsafeUnwrap().stdout;
    expect(lo).toContain("198.18.100.10/32");
    expect(lo).not.toContain("198.18.100.49/32");
    const status = (await run("birdc", ["-s", join(dir, "bird.ctl"), "show", "protocols"]))._unsafeUnwrap().stdout;
    expect(status).toMatch(/vip4_c612640a\s+Static\s+master4\s+down/);
    expect(status).toMatch(/peer4_c61201fe\s+BGP/);
    // Again: nothing changed, nothing reloaded.
    const again = (
      await run("ip", [...args, "--config", join(dir, "portico.yaml"), "--node", "lb1"], { timeoutMs: 60_000 })
    )._unsafeUnwrap();
    expect(again.stdout).toContain(`bird: ${dir}/bird.conf already up to date`);
  }, 90_000);
});
