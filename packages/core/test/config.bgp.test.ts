import { describe, expect, it } from "vitest";
import { CONFIG_DEFAULTS, formatConfigIssues, parseConfig } from "../src/config.js";
import { aConfig } from "../src/testing/index.js";

// The issue's example, word for word, on top of the documented config.
const ISSUE_EXAMPLE = {
  bgp: { asn: 64512, peers: [{ address: "198.18.1.254", asn: 64500 }] },
  pools: [{ name: "default", addresses: ["198.18.100.10-198.18.100.50"], announce: "bgp" }],
};

const issuesOf = (input: unknown): string[] =>
  parseConfig(input).match(
    () => [],
    (list) => formatConfigIssues(list).split("\n"),
  );

describe("config: bgp", () => {
  it("a config without bgp parses as before: no bgp section and every pool announced by VRRP", () => {
    const c = parseConfig(aConfig())._unsafeUnwrap();
    expect(c.bgp).toBeUndefined();
    expect(c.pools.map((p) => p.announce)).toEqual(["vrrp"]);
    expect(c.lbNodes.every((n) => n.routerId === undefined)).toBe(true);
  });

  it("the issue's example works as written, with BFD 100 ms x 3 and the section's defaults on the peer", () => {
    const c = parseConfig({ ...aConfig(), ...ISSUE_EXAMPLE })._unsafeUnwrap();
    const D = CONFIG_DEFAULTS.bgp;
    expect(c.pools[0]!.announce).toBe("bgp");
    expect(c.bgp).toEqual({
      asn: 64512,
      peers: [
        {
          address: "198.18.1.254",
          asn: 64500,
          bfd: { enabled: true, intervalMs: 100, multiplier: 3 },
          holdTimeS: D.holdTimeS,
          keepaliveS: D.keepaliveS,
          communities: [],
        },
      ],
      drain: D.drain,
      upDelayMs: D.upDelayMs,
      configPath: "/etc/bird/bird.conf",
      socket: "/run/bird/bird.ctl",
      apply: true,
    });
  });

  it("a peer's own fields override the section's, field by field, and peers are sorted by address", () => {
    const c = parseConfig({
      ...aConfig(),
      bgp: {
        asn: 64512,
        bfd: { intervalMs: 50 },
        holdTimeS: 30,
        keepaliveS: 10,
        communities: ["64512:200", "64512:100", "64512:100"],
        localPreference: 150,
        drain: "prepend",
        peers: [
          {
            address: "2001:db8:1::fe",
            asn: 64512,
            bfd: { multiplier: 5 },
            multihop: 2,
            passwordFile: "/etc/portico/peer.bird",
            communities: ["64512:1:2"],
            localPreference: 300,
            holdTimeS: 6,
            keepaliveS: 2,
          },
          { address: "198.18.1.254", asn: 64500, bfd: { enabled: false } },
        ],
      },
    })._unsafeUnwrap();
    const [v4, v6] = c.bgp!.peers;
    expect(v4).toMatchObject({
      address: "198.18.1.254",
      bfd: { enabled: false, intervalMs: 50, multiplier: 3 },
      holdTimeS: 30,
      keepaliveS: 10,
      localPreference: 150,
      communities: [
        { kind: "standard", asn: 64512, value: 100 },
        { kind: "standard", asn: 64512, value: 200 },
      ],
    });
    expect(v6).toMatchObject({
      address: "2001:db8:1::fe",
      bfd: { enabled: true, intervalMs: 50, multiplier: 5 },
      multihop: 2,
      passwordFile: "/etc/portico/peer.bird",
      communities: [{ kind: "large", asn: 64512, data1: 1, data2: 2 }],
      localPreference: 300,
      holdTimeS: 6,
    });
    expect(c.bgp!.drain).toBe("prepend");
  });

  it("names every bad field by path", () => {
    const issues = issuesOf({
      ...aConfig(),
      pools: [{ name: "default", addresses: ["198.18.100.0/28"], announce: "ospf" }],
      bgp: {
        asn: 0,
        keepaliveS: 20,
        holdTimeS: 10,
        drain: "later",
        bfd: { intervalMs: 5, extra: 1 },
        communities: ["65536:1"],
        configPath: "/etc/bird/../shadow",
        peers: [
          { address: "198.18.1.254", asn: 64500, passwordFile: "pw" },
          { address: "198.18.1.254", asn: 99999999999 },
          { address: "not-an-ip", asn: 1, multihop: 0 },
        ],
      },
    });
    const paths = issues.map((l) => l.split(":")[0]);
    for (const p of [
      "pools[0].announce",
      "bgp.asn",
      "bgp.keepaliveS",
      "bgp.drain",
      "bgp.bfd.intervalMs",
      "bgp.bfd.extra",
      "bgp.communities[0]",
      "bgp.configPath",
      "bgp.peers[0].passwordFile",
      "bgp.peers[1].asn",
      "bgp.peers[2].address",
      "bgp.peers[2].multihop",
    ])
      expect(paths).toContain(p);
  });

  it("a pool announced by BGP needs the bgp section, and every LB node then an IPv4 router id", () => {
    expect(issuesOf({ ...aConfig(), pools: ISSUE_EXAMPLE.pools })).toEqual([
      "pools[0].announce: bgp needs a bgp section with asn and peers",
    ]);
    const v6 = aConfig({
      lbNodes: [
        { name: "lb1", address: "2001:db8:1::1", interface: "eth0" },
        { name: "lb2", address: "2001:db8:1::2", interface: "eth0" },
      ],
    });
    expect(issuesOf({ ...v6, bgp: ISSUE_EXAMPLE.bgp })).toEqual([
      "lbNodes[0].routerId: is required for BGP when the node's address is not IPv4",
      "lbNodes[1].routerId: is required for BGP when the node's address is not IPv4",
    ]);
    const withIds = {
      ...v6,
      lbNodes: [
        { name: "lb1", address: "2001:db8:1::1", interface: "eth0", routerId: "198.18.1.1" },
        { name: "lb2", address: "2001:db8:1::2", interface: "eth0", routerId: "2001:db8::2" },
      ],
      bgp: ISSUE_EXAMPLE.bgp,
    };
    expect(issuesOf(withIds)).toEqual(["lbNodes[1].routerId: 2001:db8::2 is not an IPv4 address"]);
  });
});
