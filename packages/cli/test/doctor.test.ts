import { KubeConfig } from "@kubernetes/client-node";
import { parseConfig, type LbNode } from "@portico/core";
import { aConfig, aNode } from "@portico/core/testing";
import { describeWith, KubeApiServer, must, NetnsLab, program, root } from "@portico/testkit";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  doctorExitCode,
  formatDoctor,
  parseVersion,
  parseVrrpAdverts,
  runDoctor,
  type CheckResult,
} from "../src/doctor.js";
import { checkSysctls } from "../src/sysctls.js";

describe("doctor's parsers", () => {
  it("reads versions from the real banners", () => {
    expect(parseVersion("HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/")).toEqual([2, 6]);
    expect(parseVersion("Keepalived v2.2.7 (01/16,2022)")).toEqual([2, 2]);
    expect(parseVersion("nothing")).toBeUndefined();
  });

  it("reads VRRP adverts from tcpdump lines", () => {
    const text = [
      "10:00:00.000000 IP 198.18.1.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 250, intvl 10cs, length 12",
      "10:00:00.100000 IP6 fe80::1 > ff02::12: ip-proto-112 VRRPv3, Advertisement, vrid 7, prio 100, intvl 100cs, length 12",
      "garbage",
    ].join("\n");
    expect(parseVrrpAdverts(text)).toEqual([
      { source: "198.18.1.1", vrid: 51 },
      { source: "fe80::1", vrid: 7 },
    ]);
  });

  it("judges the kernel settings a proxy at maxconn needs, from /proc/sys", async () => {
    const proc = await mkdtemp(join(tmpdir(), "portico-proc-"));
    const put = async (key: string, value: string): Promise<void> => {
      const path = join(proc, "sys", ...key.split("."));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, `${value}\n`);
    };
    try {
      await put("net.ipv4.ip_local_port_range", "32768\t60999");
      await put("net.ipv4.tcp_tw_reuse", "2");
      await put("net.core.somaxconn", "128");
      await put("net.netfilter.nf_conntrack_max", "65536");
      await mkdir(join(proc, "self"), { recursive: true });
      await writeFile(
        join(proc, "self", "limits"),
        "Max open files            20000                20000                files\n",
      );
      const low = await checkSysctls(proc, 100_000);
      expect(low.map((r) => [r.name, r.verdict])).toEqual([
        ["open files", "WARN"],
        ["ephemeral ports", "WARN"],
        ["TIME_WAIT reuse", "WARN"],
        ["listen backlog", "WARN"],
        ["conntrack", "WARN"],
      ]);
      expect(low[0]?.detail).toContain("maxconn up to 9488");
      expect(low[4]?.fix).toContain("nf_conntrack_max=200000");
      expect(low[4]?.fix).toContain("notrack");
      await put("net.ipv4.ip_local_port_range", "1024 65535");
      await put("net.ipv4.tcp_tw_reuse", "1");
      await put("net.core.somaxconn", "4096");
      await put("net.netfilter.nf_conntrack_max", "262144");
      await writeFile(
        join(proc, "self", "limits"),
        "Max open files            1024                 524288               files\n",
      );
      expect((await checkSysctls(proc, 100_000)).every((r) => r.verdict === "OK")).toBe(true);
      await rm(join(proc, "sys", "net", "netfilter"), { recursive: true });
      expect((await checkSysctls(proc, 100_000)).at(-1)?.detail).toContain("not loaded");
    } finally {
      await rm(proc, { recursive: true, force: true });
    }
  });

  it("exits with the worst verdict and prints the fix under problems", () => {
    const r = (verdict: CheckResult["verdict"]): CheckResult => ({
      name: "x",
      verdict,
      detail: "d",
      ...(verdict === "OK" ? {} : { fix: "do this" }),
    });
    expect(doctorExitCode([r("OK")])).toBe(0);
    expect(doctorExitCode([r("OK"), r("WARN")])).toBe(1);
    expect(doctorExitCode([r("WARN"), r("FAIL")])).toBe(3);
    expect(formatDoctor([r("FAIL")])).toBe("FAIL  x: d\n      fix: do this\n");
  });
});

await describeWith(
  [
    program("haproxy", ["-v"]),
    program("keepalived", ["--version"]),
    program("ip", ["-V"]),
    program("tcpdump", ["--version"]),
    root,
  ],
  "portico doctor on a network namespace",
  () => {
    const lab = new NetnsLab();
    let ns = "";
    let dir = "";
    let server: KubeApiServer;
    const node: LbNode = parseConfig(aConfig())._unsafeUnwrap().lbNodes[0]!;

    beforeAll(async () => {
      ns = await lab.add("doctor");
      await lab.addInterface(ns, "eth0");
      await must("ip", ["-n", ns, "addr", "add", `${node.address}/24`, "dev", "eth0"]);
      dir = await mkdtemp(join(tmpdir(), "portico-doctor-"));
      server = await new KubeApiServer().start();
      server.put(aNode("worker-1", "198.18.2.1"));
      await writeFile(join(dir, "kubeconfig"), server.kubeconfig());
    });
    afterAll(async () => {
      await lab.destroy();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it("finds another VRRP router advertising inside Portico's VRID range", async () => {
      // A foreign router in its own namespace, wired to the doctor's eth0 by a second veth.
      const other = await lab.add("doctor-other");
      await must("ip", ["link", "add", "vr0", "netns", other, "type", "veth", "peer", "name", "eth1", "netns", ns]);
      await must("ip", ["-n", other, "addr", "add", "198.18.1.50/24", "dev", "vr0"]);
      await must("ip", ["-n", other, "link", "set", "vr0", "up"]);
      await must("ip", ["-n", ns, "link", "set", "eth1", "up"]);
      const conf = join(dir, "foreign.conf");
      await writeFile(
        conf,
        "global_defs {\n    vrrp_version 3\n}\nvrrp_instance foreign {\n    state BACKUP\n    interface vr0\n    virtual_router_id 42\n    priority 100\n    advert_int 0.1\n    virtual_ipaddress {\n        198.18.1.60/32\n    }\n}\n",
      );
      await must("ip", [
        "netns",
        "exec",
        other,
        "keepalived",
        "-f",
        conf,
        "-p",
        join(dir, "k.pid"),
        "-r",
        join(dir, "v.pid"),
        "-l",
      ]);
      const results = await runDoctor({
        config: config(),
        node: { ...node, interface: "eth1", address: node.address } as LbNode,
        netns: ns,
        captureMs: 2000,
      });
      const vrid = results.find((r) => r.name === "VRID range")!;
      expect(vrid.verdict).toBe("FAIL");
      expect(vrid.detail).toContain("42 from 198.18.1.50");

      // Outside the configured range it is someone else's business.
      const narrow = await runDoctor({
        config: config({ vrrp: { vridFirst: 100, vridLast: 200 } }),
        node: { ...node, interface: "eth1" } as LbNode,
        netns: ns,
        captureMs: 1000,
      });
      expect(narrow.find((r) => r.name === "VRID range")?.verdict).toBe("OK");
    });

    const config = (o: Record<string, unknown> = {}) =>
      parseConfig({
        ...aConfig(),
        haproxy: { configPath: `${dir}/haproxy.cfg`, statsSocket: `${dir}/admin.sock` },
        keepalived: { configPath: `${dir}/keepalived.conf` },
        ...o,
      })._unsafeUnwrap();
    const verdicts = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.name, r.verdict]));

    it("passes a healthy LB node, warning only about what is not there yet", async () => {
      const results = await runDoctor({
        config: config(),
        node,
        netns: ns,
        kubeconfig: join(dir, "kubeconfig"),
        captureMs: 0,
      });
      expect(verdicts(results)).toMatchObject({
        "haproxy installed": "OK",
        "keepalived installed": "OK",
        "interface eth0": "OK",
        "LB node address": "OK",
        "bind VIPs not held": "OK",
        "haproxy config path": "OK",
        "haproxy runtime socket": "WARN",
        "keepalived config path": "OK",
        kubeconfig: "OK",
      });
    });

    it("fails a missing interface, a missing address and an unreachable API server, each with its fix", async () => {
      const kc = new KubeConfig();
      kc.loadFromString(server.kubeconfig());
      const wrongNode = { ...node, interface: "eth9", address: "198.18.1.99" } as LbNode;
      server.setUnreachable(true);
      const results = await runDoctor({
        config: config(),
        node: wrongNode,
        netns: ns,
        kubeconfig: join(dir, "kubeconfig"),
        captureMs: 0,
      });
      server.setUnreachable(false);
      const iface = results.find((r) => r.name === "interface eth9")!;
      expect(iface.verdict).toBe("FAIL");
      expect(iface.fix).toContain("lbNodes[lb1].interface");
      expect(results.find((r) => r.name === "kubeconfig")).toMatchObject({ verdict: "FAIL" });
      expect(doctorExitCode(results)).toBe(3);

      const noAddress = await runDoctor({
        config: config(),
        node: { ...node, address: "198.18.1.99" } as LbNode,
        netns: ns,
        captureMs: 0,
      });
      expect(noAddress.find((r) => r.name === "LB node address")).toMatchObject({
        verdict: "FAIL",
        detail: expect.stringContaining("198.18.1.99 is not on eth0"),
      });
    });
  },
);
