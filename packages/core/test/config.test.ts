import { describe, expect, it } from "vitest";
import { CONFIG_DEFAULTS, formatConfigIssues, parseConfig } from "../src/config.js";
import { parseHostPort } from "../src/hostPort.js";
import { aConfig } from "../src/testing/index.js";

describe("parseConfig", () => {
  it("accepts the documented example and fills every default", () => {
    const config = parseConfig(aConfig())._unsafeUnwrap();
    expect(config.loadBalancerClass).toBe("portico.dev/haproxy");
    expect(config.healthCheck).toEqual({
      kubeProxyPort: 10256,
      intervalMs: 2000,
      rise: 2,
      fall: 3,
      fastinterMs: 500,
      downinterMs: 2000,
    });
    expect(config.vrrp).toEqual({
      vridFirst: 1,
      vridLast: 255,
      advertIntMs: 100,
      preempt: true,
      haproxyCheck: { kind: "script", pidFile: "/run/haproxy.pid", intervalS: 1, fall: 2, rise: 2 },
      preemptDelayS: 0,
      peersOnLink: true,
    });
    expect(config.keepalived).toEqual({
      configPath: "/etc/keepalived/keepalived.conf",
      pidFile: "/run/keepalived.pid",
      scriptUser: "nobody",
      apply: true,
    });
    expect(config.lbNodes.map((n) => [n.weight, n.drain])).toEqual([
      [1, false],
      [1, false],
    ]);
    expect(config.haproxy).toEqual({
      configPath: "/etc/haproxy/haproxy.cfg",
      statsSocket: "/run/haproxy/admin.sock",
      masterSocket: "/run/haproxy-master.sock",
      frontendMaxconn: 20_000,
      peersPort: 10_000,
      maxconn: 100_000,
      hardStopAfterMs: 1_800_000,
      maxReloads: 50,
      reloadIntervalMs: 5_000,
      user: "haproxy",
      group: "haproxy",
      chroot: "/var/lib/haproxy",
      logTarget: "/dev/log",
    });
    expect(config.pools[0]?.ranges.map((r) => r.text)).toEqual(["198.18.100.10-198.18.100.50", "2001:db8:100::/120"]);
  });

  it("names the field of every problem at once", () => {
    const bad = {
      ...aConfig(),
      kind: "Nope",
      pools: [{ name: "Default!", addresses: ["198.18.0.5-198.18.0.1", "nonsense"] }],
      lbNodes: [{ name: "lb1", address: "198.18.1.300", interface: "eth0; rm -rf /" }],
      vrrp: { vridFirst: 10, vridLast: 5, advertIntMs: 15 },
      extra: 1,
    };
    const text = formatConfigIssues(parseConfig(bad)._unsafeUnwrapErr());
    expect(text).toContain("kind: must be PorticoConfig");
    expect(text).toContain("pools[0].name:");
    expect(text).toContain('pools[0].addresses[0]: "198.18.0.5-198.18.0.1" ends before it starts');
    expect(text).toContain("pools[0].addresses[1]:");
    expect(text).toContain("lbNodes[0].address:");
    expect(text).toContain("lbNodes[0].interface:");
    expect(text).toContain("vrrp.vridLast: must not be below vridFirst");
    expect(text).toContain("vrrp.advertIntMs:");
    expect(text).toContain("extra: unknown field");
  });

  it("names bad LB node weights, drains, HAProxy checks and script users", () => {
    const bad = {
      ...aConfig(),
      lbNodes: [{ name: "lb1", address: "198.18.1.1", interface: "eth0", weight: 0, drain: "yes" }],
      vrrp: { preempt: "no", haproxyCheck: { kind: "script", pidFile: "run/x", intervalS: 0.5 } },
      keepalived: { scriptUser: "root" },
    };
    const text = formatConfigIssues(parseConfig(bad)._unsafeUnwrapErr());
    expect(text).toContain("lbNodes[0].weight: must be a whole number from 1 to 100");
    expect(text).toContain("lbNodes[0].drain: must be true or false");
    expect(text).toContain("vrrp.preempt: must be true or false");
    expect(text).toContain("vrrp.haproxyCheck.pidFile:");
    expect(text).toContain("vrrp.haproxyCheck.intervalS: must be a whole number from 1 to 60");
    expect(text).toContain("keepalived.scriptUser:");
    const kind = formatConfigIssues(
      parseConfig({ ...aConfig(), vrrp: { haproxyCheck: { kind: "magic" } } })._unsafeUnwrapErr(),
    );
    expect(kind).toContain('vrrp.haproxyCheck.kind: "magic" is not one of script, process, stats');
    // The stats check: its defaults, and its paths parsed like every other path.
    expect(
      parseConfig({ ...aConfig(), vrrp: { haproxyCheck: { kind: "stats" } } })._unsafeUnwrap().vrrp.haproxyCheck,
    ).toEqual({
      kind: "stats",
      socket: "/run/haproxy/admin.sock",
      program: "/usr/lib/portico/haproxy-check",
      intervalS: 1,
      fall: 2,
      rise: 2,
    });
    const stats = formatConfigIssues(
      parseConfig({
        ...aConfig(),
        vrrp: { haproxyCheck: { kind: "stats", socket: "x y", pidFile: "/a" } },
      })._unsafeUnwrapErr(),
    );
    expect(stats).toContain("vrrp.haproxyCheck.socket:");
    expect(stats).toContain("vrrp.haproxyCheck.pidFile");
    const allDrained = formatConfigIssues(
      parseConfig({
        ...aConfig(),
        lbNodes: [{ name: "lb1", address: "198.18.1.1", interface: "eth0", drain: true }],
      })._unsafeUnwrapErr(),
    );
    expect(allDrained).toContain("lbNodes: every LB node is drained");
    const proc = parseConfig({
      ...aConfig(),
      vrrp: { haproxyCheck: { kind: "process" }, preempt: false },
    })._unsafeUnwrap();
    expect(proc.vrrp.haproxyCheck).toEqual({ kind: "process" });
    expect(proc.vrrp.preempt).toBe(false);
  });

  it("reads HAProxy's threads, exporter address, frontend maxconn and check intervals, and names bad ones", () => {
    const set = parseConfig({
      ...aConfig(),
      haproxy: { threads: 4, prometheus: "127.0.0.1:8405", frontendMaxconn: 5000 },
      healthCheck: { fastinterMs: 300, downinterMs: 5000 },
    })._unsafeUnwrap();
    expect(set.haproxy).toMatchObject({
      threads: 4,
      prometheus: { address: "127.0.0.1", port: 8405 },
      frontendMaxconn: 5000,
    });
    expect(set.healthCheck).toMatchObject({ fastinterMs: 300, downinterMs: 5000 });
    const text = formatConfigIssues(
      parseConfig({
        ...aConfig(),
        haproxy: { threads: 0, prometheus: "localhost:8405", frontendMaxconn: -1 },
        healthCheck: { fastinterMs: 5, downinterMs: "2s" },
      })._unsafeUnwrapErr(),
    );
    expect(text).toContain("haproxy.threads: must be a whole number from 1 to 256");
    expect(text).toContain('haproxy.prometheus: "localhost:8405" is not address:port');
    expect(text).toContain("haproxy.frontendMaxconn: must be a whole number from 1 to 10000000");
    expect(text).toContain("healthCheck.fastinterMs: must be a whole number from 100 to 3600000");
    expect(text).toContain("healthCheck.downinterMs: must be a whole number from 100 to 3600000");
  });

  it("reads HAProxy's process settings and refuses a wildcard exporter", () => {
    const set = parseConfig({
      ...aConfig(),
      haproxy: { user: "root", chroot: "none", hardStopAfterMs: 3_600_000, maxReloads: 10, reloadIntervalMs: 0 },
    })._unsafeUnwrap();
    expect(set.haproxy).toMatchObject({ user: "root", chroot: "none", hardStopAfterMs: 3_600_000, maxReloads: 10 });
    const text = formatConfigIssues(
      parseConfig({
        ...aConfig(),
        haproxy: { prometheus: "0.0.0.0:8405", maxconn: 1000, user: "Root; x", chroot: "rel/dir", hardStopAfterMs: 5 },
      })._unsafeUnwrapErr(),
    );
    expect(text).toContain('haproxy.prometheus: "0.0.0.0:8405" listens on every address');
    expect(text).toContain("haproxy.user:");
    expect(text).toContain("haproxy.chroot:");
    expect(text).toContain("haproxy.hardStopAfterMs: must be a whole number from 1000 to 86400000");
    expect(
      formatConfigIssues(parseConfig({ ...aConfig(), haproxy: { prometheus: "[::]:8405" } })._unsafeUnwrapErr()),
    ).toContain("listens on every address");
  });

  it("refuses overlapping pools and duplicate LB nodes", () => {
    const text = formatConfigIssues(
      parseConfig(
        aConfig({
          pools: [
            { name: "a", addresses: ["198.18.100.0/24"] },
            { name: "b", addresses: ["198.18.100.200-198.18.101.5"] },
          ],
          lbNodes: [
            { name: "lb1", address: "198.18.1.1", interface: "eth0" },
            { name: "lb1", address: "198.18.1.1", interface: "eth0" },
          ],
        }),
      )._unsafeUnwrapErr(),
    );
    expect(text).toContain("198.18.100.0/24 (pool a) overlaps 198.18.100.200-198.18.101.5 (pool b)");
    expect(text).toContain('LB node name "lb1" appears more than once');
  });

  it("defaults the controller section and checks its timings against each other", () => {
    expect(parseConfig(aConfig())._unsafeUnwrap().controller).toEqual({
      lease: {
        namespace: "portico-system",
        name: "portico-status",
        durationMs: 15000,
        renewDeadlineMs: 10000,
        retryPeriodMs: 2000,
      },
      coalesce: { quietMs: 100, maxDelayMs: 1000 },
      listen: { address: "127.0.0.1", port: 9750 },
    });
    const custom = parseConfig({
      ...aConfig(),
      controller: { listen: "[2001:db8::1]:9000", lease: { name: "lb-status" } },
    })._unsafeUnwrap().controller;
    expect(custom.listen).toEqual({ address: "2001:db8::1", port: 9000 });
    expect(custom.lease.name).toBe("lb-status");
    const text = formatConfigIssues(
      parseConfig({
        ...aConfig(),
        controller: {
          listen: "localhost:9000",
          lease: { durationMs: 5000, renewDeadlineMs: 5000 },
          coalesce: { quietMs: 500, maxDelayMs: 100 },
        },
      })._unsafeUnwrapErr(),
    );
    expect(text).toContain("controller.listen:");
    expect(text).toContain("controller.lease.renewDeadlineMs: must be below durationMs (5000)");
    expect(text).toContain("controller.coalesce.quietMs: must not exceed maxDelayMs (100)");
  });

  it("refuses LB nodes whose addresses mix families", () => {
    const issues = parseConfig(
      aConfig({
        lbNodes: [
          { name: "lb1", address: "198.18.1.1", interface: "eth0" },
          { name: "lb2", address: "2001:db8:1::2", interface: "eth0" },
        ],
      }),
    )._unsafeUnwrapErr();
    expect(issues).toEqual([{ path: "lbNodes", message: expect.stringContaining("same family") }]);
  });

  it("refuses config paths that could break out of a config line", () => {
    const text = formatConfigIssues(
      parseConfig(aConfig({ haproxy: { statsSocket: "/run/x sock\nlevel admin" } }))._unsafeUnwrapErr(),
    );
    expect(text).toContain("haproxy.statsSocket:");
  });

  it("a config that sets no optional field takes exactly the defaults CONFIG_DEFAULTS prints", () => {
    const c = parseConfig(aConfig())._unsafeUnwrap();
    const D = CONFIG_DEFAULTS;
    expect(c.healthCheck).toEqual(D.healthCheck);
    expect(c.vrrp).toEqual(D.vrrp);
    expect(c.haproxy).toEqual(D.haproxy);
    expect(c.keepalived).toEqual(D.keepalived);
    expect(c.controller).toEqual({
      lease: D.controller.lease,
      coalesce: D.controller.coalesce,
      listen: parseHostPort(D.controller.listen),
    });
    expect(c.lbNodes.map((n) => ({ weight: n.weight, drain: n.drain }))).toEqual([D.lbNode, D.lbNode]);
    expect(c.pools.map((p) => p.autoAssign)).toEqual([D.pool.autoAssign]);
    expect({ ...c.tuning, excludeCpus: "" }).toEqual({ ...D.tuning, topologies: [] });
    expect([c.loadBalancerClass, c.handleUnclassed, c.maxBackendsPerService, c.podIpsRoutable]).toEqual([
      D.loadBalancerClass,
      D.handleUnclassed,
      D.maxBackendsPerService,
      D.podIpsRoutable,
    ]);
    expect(c.serviceDefaults).toEqual(D.serviceDefaults);
  });
});
