import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type Io } from "../src/index.js";

const root = resolve(import.meta.dirname, "../../..");
const cluster = join(root, "examples/quickstart/cluster.yaml");
const vrrpConfig = join(root, "examples/quickstart/portico.yaml");

// The quickstart config with the bgp section and its pool announced by BGP, as written there.
const BGP_YAML = `apiVersion: portico.dev/v1alpha1
kind: PorticoConfig
bgp:
  asn: 64512
  peers:
    - { address: 198.18.1.254, asn: 64500 }
pools:
  - { name: default, addresses: ["198.18.100.10-198.18.100.50"], announce: bgp }
lbNodes:
  - { name: lb1, address: 198.18.1.1, interface: eth0 }
  - { name: lb2, address: 198.18.1.2, interface: eth0 }
`;

const portico = async (...argv: string[]) => {
  let stdout = "";
  let stderr = "";
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, cwd: root };
  const code = await main(argv, io);
  return { code, stdout, stderr };
};

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-cli-bgp-"));
  await writeFile(join(dir, "portico.yaml"), BGP_YAML);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("portico render with announce: bgp", () => {
  it("writes bird.conf beside haproxy.cfg for each LB node, and keepalived.conf holds no instance for the VIPs", async () => {
    for (const node of ["lb1", "lb2"]) {
      const out = join(dir, node);
      const r = await portico(
        "render",
        "--cluster",
        cluster,
        "--config",
        join(dir, "portico.yaml"),
        "--node",
        node,
        "--out",
        out,
      );
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`wrote ${join(out, "bird.conf")}`);
      const bird = await readFile(join(out, "bird.conf"), "utf8");
      expect(bird).toContain(`router id 198.18.1.${node.slice(2)};`);
      expect(bird).toContain("neighbor 198.18.1.254 as 64500;");
      expect(bird).toContain("route 198.18.100.10/32 blackhole;");
      expect(bird).toContain("bfd { interval 100 ms; multiplier 3; };");
      expect(await readFile(join(out, "haproxy.cfg"), "utf8")).toContain("bind 198.18.100.10:443 transparent");
      expect(await readFile(join(out, "keepalived.conf"), "utf8")).not.toContain("198.18.100.10");
      const plan = JSON.parse(await readFile(join(out, "plan.json"), "utf8")) as {
        announcements: { vip: string; lbNodes: string[] }[];
        vrrpInstances: unknown[];
      };
      expect(plan.vrrpInstances).toEqual([]);
      expect(plan.announcements.find((a) => a.vip === "198.18.100.10")?.lbNodes).toEqual(["lb1", "lb2"]);
    }
  });

  it("a config for today's VRRP writes no bird.conf", async () => {
    const out = join(dir, "vrrp");
    await portico("render", "--cluster", cluster, "--config", vrrpConfig, "--node", "lb1", "--out", out);
    expect(existsSync(join(out, "haproxy.cfg"))).toBe(true);
    expect(existsSync(join(out, "bird.conf"))).toBe(false);
  });
});
