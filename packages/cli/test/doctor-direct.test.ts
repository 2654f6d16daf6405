import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNftables } from "@portico/adapter-nftables";
import { parseConfig, type LbNodeName } from "@portico/core";
import { aConfig, aNode, aService, planOf } from "@portico/core/testing";
import { describeWith, must, NetnsLab, program, root } from "@portico/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judgeDirectRoute } from "../src/doctor-direct.js";
import { formatDoctor, runDoctor } from "../src/doctor.js";

// `portico doctor` on an LB node whose installed ruleset forwards `direct` traffic: each node
// address must be a neighbour on the LB interface. The LB namespace here has eth0 (198.18.40.1/24,
// with 198.18.31.0/24 routed through a gateway on it) and eth1 (198.18.32.1/24).

const ON_LINK = "198.18.40.11";
const BEHIND_GATEWAY = "198.18.31.5";
const OTHER_INTERFACE = "198.18.32.7";

describe("judging a direct node's route", () => {
  const ids = ["l4_default_dns_53_udp_v4_0123456789abcdef"];
  it("passes an on-link neighbour and names the listeners that use it", () => {
    expect(judgeDirectRoute(ON_LINK, "eth0", { dev: "eth0" }, { state: ["REACHABLE"] }, ids)).toEqual({
      name: `direct node ${ON_LINK}`,
      verdict: "OK",
      detail: "a neighbour on eth0 (no gateway, REACHABLE); forwarded to by default_dns_53_udp_v4",
    });
  });
  it("fails a gateway, another interface, a local address and no route; warns a neighbour that never answered", () => {
    const verdict = (route: Parameters<typeof judgeDirectRoute>[2], neigh = {}) =>
      judgeDirectRoute("198.18.9.9", "eth0", route, neigh, ids);
    expect(verdict({ dev: "eth0", gateway: "198.18.40.254" })).toMatchObject({
      verdict: "FAIL",
      detail: expect.stringContaining("behind gateway 198.18.40.254 on eth0"),
      fix: expect.stringContaining("portico.dev/data-plane: nat"),
    });
    expect(verdict({ dev: "eth1" })).toMatchObject({ verdict: "FAIL", detail: expect.stringContaining("eth1") });
    expect(verdict({ type: "local", dev: "lo" })).toMatchObject({ verdict: "FAIL" });
    expect(verdict(undefined)).toMatchObject({ verdict: "FAIL", detail: expect.stringContaining("no route") });
    expect(verdict({ dev: "eth0" }, { state: ["FAILED"] })).toMatchObject({ verdict: "WARN" });
  });
});

await describeWith([root, program("ip", ["-V"])], "portico doctor's direct checks on a network namespace", () => {
  const lab = new NetnsLab();
  let ns = "";
  let dir = "";
  const config = () =>
    parseConfig({
      ...aConfig({ lbNodes: [{ name: "lb1", address: "198.18.40.1", interface: "eth0" }] }),
      haproxy: { configPath: `${dir}/haproxy.cfg`, statsSocket: `${dir}/admin.sock` },
      keepalived: { configPath: `${dir}/keepalived.conf` },
      nftables: { configPath: `${dir}/nftables.conf` },
    })._unsafeUnwrap();
  /** Install (as a file: the doctor reads what was installed) the ruleset of a direct Service over `nodes`. */
  const install = async (nodes: readonly string[], mode = "direct") => {
    const p = planOf(
      [
        ...nodes.map((a, i) => aNode(`node-${i}`, a)),
        aService({
          name: "dns",
          annotations: { "portico.dev/data-plane": mode },
          ports: [{ name: "dns", port: 53, nodePort: 30053, protocol: "UDP" }],
        }),
      ],
      config(),
    );
    await writeFile(join(dir, "nftables.conf"), renderNftables(p, { node: "lb1" as LbNodeName })._unsafeUnwrap());
  };
  const direct = async () =>
    (await runDoctor({ config: config(), node: config().lbNodes[0]!, netns: ns, captureMs: 0 })).filter((r) =>
      r.name.startsWith("direct"),
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "portico-doctor-direct-"));
    ns = await lab.add("doctor-direct");
    for (const [dev, cidr] of [
      ["eth0", "198.18.40.1/24"],
      ["eth1", "198.18.32.1/24"],
    ] as const) {
      await lab.addInterface(ns, dev);
      await must("ip", ["-n", ns, "addr", "add", cidr, "dev", dev]);
      await must("ip", ["-n", ns, "link", "set", dev, "up"]);
    }
    await must("ip", ["-n", ns, "route", "add", "198.18.31.0/24", "via", "198.18.40.254"]);
  });
  afterAll(async () => {
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it("passes when every node direct forwards to is a neighbour on the LB interface, and says what it cannot check", async () => {
    await install([ON_LINK]);
    const results = await direct();
    expect(results.map((r) => [r.name, r.verdict])).toEqual([
      [`direct node ${ON_LINK}`, "OK"],
      ["direct ARP for VIPs", "OK"],
    ]);
    expect(results[1]?.detail).toMatch(/^not checked: .*strictARP: true/);
    expect(formatDoctor(results.slice(0, 1))).toBe(
      `OK    direct node ${ON_LINK}: a neighbour on eth0 (no gateway); forwarded to by default_dns_53_udp_v4\n`,
    );
  });

  it("fails a node behind a gateway and one on another interface, each with its fix", async () => {
    await install([ON_LINK, BEHIND_GATEWAY, OTHER_INTERFACE]);
    const results = await direct();
    expect(results.map((r) => [r.name, r.verdict])).toEqual([
      [`direct node ${BEHIND_GATEWAY}`, "FAIL"],
      [`direct node ${OTHER_INTERFACE}`, "FAIL"],
      [`direct node ${ON_LINK}`, "OK"],
      ["direct ARP for VIPs", "OK"],
    ]);
    expect(formatDoctor(results.slice(0, 2))).toBe(
      [
        `FAIL  direct node ${BEHIND_GATEWAY}: behind gateway 198.18.40.254 on eth0, not a neighbour; forwarded to by default_dns_53_udp_v4`,
        "      fix: put the node on eth0's L2 segment, or set portico.dev/data-plane: nat on those Services (nat is routed)",
        `FAIL  direct node ${OTHER_INTERFACE}: reached through eth1, not the LB interface eth0; forwarded to by default_dns_53_udp_v4`,
        "      fix: put the node on eth0's L2 segment, or set portico.dev/data-plane: nat on those Services (nat is routed)",
        "",
      ].join("\n"),
    );
  });

  it("warns an on-link node that does not answer ARP", async () => {
    await install([ON_LINK]);
    await must("ip", ["-n", ns, "neigh", "replace", ON_LINK, "dev", "eth0", "nud", "failed"]);
    const results = await direct();
    expect(results[0]).toMatchObject({ verdict: "WARN", detail: expect.stringContaining("FAILED") });
    await must("ip", ["-n", ns, "neigh", "flush", "dev", "eth0"]);
  });

  it("has nothing to say about nat, which is routed, or without an installed ruleset", async () => {
    await install([BEHIND_GATEWAY], "nat");
    expect(await direct()).toEqual([]);
    await rm(join(dir, "nftables.conf"));
    expect(await direct()).toEqual([]);
  });
});
