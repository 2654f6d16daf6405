import type { LbNodeName, Millis, Plan } from "@portico/core";
import { describe, expect, it } from "vitest";
import { renderKeepalived } from "../src/index.js";
import { ipv6NodesPlan, processNopreemptPlan, singleNodePlan, statsCheckPlan, typicalPlan } from "./fixtures.js";

interface RenderedInstance {
  readonly id: string;
  readonly body: string;
  readonly priority: number;
  readonly srcIp: string | undefined;
  readonly peers: readonly string[] | undefined;
  /** Each peer line's options after the address (`min_ttl 255`). */
  readonly peerOptions: readonly string[] | undefined;
}

// Just enough of keepalived.conf to read back what the renderer wrote for each instance.
const instances = (text: string): RenderedInstance[] =>
  [...text.matchAll(/^vrrp_instance (\S+) \{\n([\s\S]*?)\n\}$/gm)].map(([, id = "", body = ""]) => ({
    id,
    body,
    priority: Number(/^ {4}priority (\d+)$/m.exec(body)?.[1]),
    srcIp: /^ {4}unicast_src_ip (\S+)$/m.exec(body)?.[1],
    peers: peerLines(body)?.map((l) => l.split(" ")[0]!),
    peerOptions: peerLines(body)?.map((l) => l.split(" ").slice(1).join(" ")),
  }));

const peerLines = (body: string): string[] | undefined =>
  /^ {4}unicast_peer \{\n([\s\S]*?)\n {4}\}$/m
    .exec(body)?.[1]
    ?.split("\n")
    .map((l) => l.trim());

const render = (plan: Plan, node: string): string =>
  renderKeepalived(plan, { node: node as LbNodeName })._unsafeUnwrap();

describe("renderKeepalived", () => {
  const plan = typicalPlan();

  for (const self of plan.lbNodes) {
    it(`gives ${self.name} its own priority in every instance, and priority 1 where it is not ranked`, () => {
      const rendered = instances(render(plan, self.name));
      expect(rendered.map((r) => r.id)).toEqual(plan.vrrpInstances.map((i) => i.id));
      for (const inst of plan.vrrpInstances) {
        const want = inst.priorities.find((p) => p.lbNode === self.name)?.priority ?? 1;
        expect(rendered.find((r) => r.id === inst.id)?.priority, inst.id).toBe(want);
      }
    });

    it(`adverts from ${self.name}'s address to every other LB node, never to itself`, () => {
      const others = plan.lbNodes.filter((n) => n.name !== self.name).map((n) => n.address);
      for (const r of instances(render(plan, self.name)).filter((r) => !r.body.includes(":"))) {
        expect(r.srcIp).toBe(self.address);
        expect(r.peers).toEqual(others);
        expect(r.peers).not.toContain(self.address);
      }
    });
  }

  it("says which node is missing and which are configured", () => {
    const error = renderKeepalived(plan, { node: "lb9" as LbNodeName })._unsafeUnwrapErr();
    expect(error).toMatchObject({ kind: "render", adapter: "keepalived" });
    expect(error.message).toBe('LB node "lb9" is not in the plan; configured LB nodes: lb1, lb2, lb3');
  });

  it("quotes a hostile node name in the error instead of echoing it", () => {
    const error = renderKeepalived(plan, { node: "lb1\n}" as LbNodeName })._unsafeUnwrapErr();
    expect(error.message).toContain('"lb1\\n}"');
  });

  it("orders instances by VRID and VIPs by address, whatever order the plan lists them in", () => {
    const single = singleNodePlan();
    const shuffled: Plan = {
      ...plan,
      vrrpInstances: [...plan.vrrpInstances].reverse(),
    };
    expect(render(shuffled, "lb1")).toBe(render(plan, "lb1"));
    const inst = single.vrrpInstances[0]!;
    const vips: Plan = { ...single, vrrpInstances: [{ ...inst, vips: [...inst.vips].reverse() }] };
    expect(render(vips, "lb1")).toBe(render(single, "lb1"));
    expect(render(single, "lb1")).toContain("        198.18.100.20/32 dev eth0\n        198.18.100.21/32 dev eth0\n");
  });

  it("writes advert_int as exact decimal seconds", () => {
    const at = (ms: number): string =>
      /^ {4}advert_int (\S+)$/m.exec(
        render(
          { ...plan, settings: { ...plan.settings, vrrp: { ...plan.settings.vrrp, advertIntMs: ms as Millis } } },
          "lb1",
        ),
      )?.[1] ?? "";
    expect([10, 100, 1000, 1230, 40_950].map(at)).toEqual(["0.01", "0.1", "1", "1.23", "40.95"]);
  });

  it("adverts by multicast for VIPs of the other family than the LB nodes' addresses", () => {
    const [v4, v6] = instances(render(ipv6NodesPlan(), "lb1"));
    expect(v4?.body).toContain("198.18.100.30/32 dev bond0");
    expect(v4?.srcIp).toBeUndefined();
    expect(v4?.peers).toBeUndefined();
    expect(v6?.srcIp).toBe("2001:db8:1::1");
    expect(v6?.peers).toEqual(["2001:db8:1::2"]);
    const typicalV6 = instances(render(plan, "lb1")).find((r) => r.body.includes("2001:db8:100::a/128 dev eth0"));
    expect(typicalV6?.srcIp).toBeUndefined();
  });

  it("accepts adverts only from its peers' addresses, with TTL 255 unless the peers are routed", () => {
    const text = render(plan, "lb1");
    expect(text).toMatch(/^ {4}vrrp_check_unicast_src$/m);
    const unicast = instances(text).filter((r) => r.peers !== undefined);
    expect(unicast.length).toBeGreaterThan(0);
    for (const r of unicast) expect(r.peerOptions?.every((o) => o === "min_ttl 255")).toBe(true);
    const routed: Plan = {
      ...plan,
      settings: { ...plan.settings, vrrp: { ...plan.settings.vrrp, peersOnLink: false } },
    };
    const routedText = render(routed, "lb1");
    expect(routedText).toMatch(/^ {4}vrrp_check_unicast_src$/m);
    expect(routedText).not.toContain("min_ttl");
  });

  it("delays preemption by preemptDelayS (none by default), and never with nopreempt", () => {
    const delays = (p: Plan): string[] =>
      instances(render(p, "lb1")).map((r) => /^ {4}preempt_delay (\S+)$/m.exec(r.body)?.[1] ?? "");
    expect(new Set(delays(plan))).toEqual(new Set([""]));
    const vrrp = (extra: object): Plan => ({
      ...plan,
      settings: { ...plan.settings, vrrp: { ...plan.settings.vrrp, ...extra } },
    });
    expect(new Set(delays(vrrp({ preemptDelayS: 10 })))).toEqual(new Set(["10"]));
    expect(new Set(delays(vrrp({ preemptDelayS: 0 })))).toEqual(new Set([""]));
    expect(new Set(delays(vrrp({ preemptDelayS: 300 })))).toEqual(new Set(["300"]));
    expect(render(vrrp({ preempt: false, preemptDelayS: 10 }), "lb1")).not.toContain("preempt_delay");
    expect(
      renderKeepalived(vrrp({ preemptDelayS: 1001 }), { node: "lb1" as LbNodeName })._unsafeUnwrapErr().message,
    ).toBe('settings.vrrp.preemptDelayS: "1001" is not a whole number from 0 to 1000');
  });

  it("keeps the VRRP process in memory, and leaves it at normal scheduling priority", () => {
    const text = render(plan, "lb1");
    expect(text).toMatch(/^ {4}vrrp_no_swap$/m);
    // Real-time VRRP made reloads move VIPs in the lab (docs/operations.md, Scheduling).
    expect(text).not.toMatch(/^ {4}(vrrp_rt_priority|max_auto_priority)/m);
  });

  it("with the stats check, asks the stats socket as root through the check program, and tracks it as a script", () => {
    const text = render(statsCheckPlan(), "lb1");
    expect(text).toMatch(
      /^vrrp_script haproxy \{\n {4}script "\/usr\/lib\/portico\/haproxy-check \/run\/haproxy\/admin\.sock"\n {4}user root\n {4}interval 1\n {4}timeout 1\n {4}fall 2\n {4}rise 2\n {4}init_fail\n\}$/m,
    );
    expect(text).toMatch(/^ {4}enable_script_security$/m);
    expect(text).not.toContain("script_user");
    expect(instances(text).every((r) => r.body.includes("    track_script {\n        haproxy\n    }"))).toBe(true);
    const hostile = statsCheckPlan();
    const bad = {
      ...hostile,
      settings: {
        ...hostile.settings,
        vrrp: {
          ...hostile.settings.vrrp,
          haproxyCheck: { ...statsCheckPlan().settings.vrrp.haproxyCheck!, socket: '/x" ; rm' },
        },
      },
    } as Plan;
    expect(renderKeepalived(bad, { node: "lb1" as LbNodeName })._unsafeUnwrapErr().message).toContain(
      "settings.vrrp.haproxyCheck.socket",
    );
  });

  it("has no unicast keywords when the node has no peer", () => {
    const text = render(singleNodePlan(), "lb1");
    expect(text).not.toContain("unicast_");
  });

  it("tracks HAProxy by default with an unweighted pgrep script run as a non-root user, and preempts", () => {
    const text = render(plan, "lb1");
    expect(text).toMatch(/^ {4}enable_script_security\n {4}script_user nobody$/m);
    expect(text).toMatch(
      /^vrrp_script haproxy \{\n {4}script "\/usr\/bin\/pgrep -F \/run\/haproxy\.pid -r R,S,D"\n {4}interval 1\n {4}timeout 1\n {4}fall 2\n {4}rise 2\n {4}init_fail\n\}$/m,
    );
    expect(instances(text).every((r) => r.body.includes("    track_script {\n        haproxy\n    }"))).toBe(true);
    // A weight would only nudge the priority: the tracker must FAULT the instance instead.
    expect(text).not.toMatch(/^\s*(weight|nopreempt|notify|vrrp_track_process)/m);
    expect(text).toMatch(/^ {4}state BACKUP$/m);
    expect(text).not.toMatch(/^ *state MASTER/m);
  });

  it("takes the script's pid file, timing and user from the settings", () => {
    const custom: Plan = {
      ...plan,
      settings: {
        ...plan.settings,
        keepalived: { ...plan.settings.keepalived, scriptUser: "keepalived_script" },
        vrrp: {
          ...plan.settings.vrrp,
          haproxyCheck: { kind: "script", pidFile: "/var/run/lab/haproxy.pid", intervalS: 3, fall: 1, rise: 4 },
        },
      },
    };
    const text = render(custom, "lb1");
    expect(text).toContain('script "/usr/bin/pgrep -F /var/run/lab/haproxy.pid -r R,S,D"');
    expect(text).toMatch(/^ {4}interval 3\n {4}timeout 3\n {4}fall 1\n {4}rise 4$/m);
    expect(text).toMatch(/^ {4}script_user keepalived_script$/m);
  });

  it("with the process tracker and preempt false: vrrp_track_process unweighted, nopreempt in every instance, no script", () => {
    const text = render(processNopreemptPlan(), "lb1");
    expect(text).toMatch(/^vrrp_track_process haproxy \{\n {4}process haproxy\n {4}quorum 1\n {4}weight 0\n\}$/m);
    expect(
      instances(text).every(
        (r) => r.body.includes("    track_process {\n        haproxy\n    }") && /^ {4}nopreempt$/m.test(r.body),
      ),
    ).toBe(true);
    expect(text).not.toMatch(/^\s*(script_user|vrrp_script|track_script)/m);
  });

  it("refuses a hostile script pid file or user instead of writing it", () => {
    for (const [pidFile, user] of [
      ['/run/x" ; rm -rf /', "nobody"],
      ["/run/../etc/shadow", "nobody"],
      ["/run/haproxy.pid", "root"],
      ["/run/haproxy.pid", "no body"],
    ] as const) {
      const bad: Plan = {
        ...plan,
        settings: {
          ...plan.settings,
          keepalived: { ...plan.settings.keepalived, scriptUser: user },
          vrrp: { ...plan.settings.vrrp, haproxyCheck: { kind: "script", pidFile, intervalS: 1, fall: 2, rise: 2 } },
        },
      };
      expect(renderKeepalived(bad, { node: "lb1" as LbNodeName })._unsafeUnwrapErr()).toMatchObject({
        kind: "render",
        adapter: "keepalived",
      });
    }
  });

  it("indents with four spaces and names the node in the header", () => {
    const text = render(plan, "lb2");
    expect(text.startsWith("# Generated by Portico for LB node lb2.\n")).toBe(true);
    expect(text).not.toContain("\t");
    for (const line of text.split("\n"))
      expect(line.match(/^ */)?.[0].length ?? 0).toSatisfy((n: number) => n % 4 === 0);
    expect(text).toMatch(/^ {4}router_id lb2$/m);
  });
});
