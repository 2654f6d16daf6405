import type { Ip, LbNodeName } from "@portico/core";
import { describe, expect, it } from "vitest";
import { renderBird } from "../src/index.js";
import { drainingPlan, typicalPlan } from "./fixtures.js";

const lb = (n: number) => `lb${n}` as LbNodeName;

describe("renderBird", () => {
  it("renders VIPs outside `announce` disabled, so a reconfigure keeps what the node withdrew", () => {
    const text = renderBird(typicalPlan(), { node: lb(1), announce: ["198.18.100.11" as Ip] })._unsafeUnwrap();
    expect(text).toMatch(/protocol static vip4_c612640a \{\n {2}ipv4;\n {2}disabled yes;/);
    expect(text).toMatch(/protocol static vip4_c612640b \{\n {2}ipv4;\n {2}disabled no;/);
    // The export filter still names both: withdrawing one changes only its static protocol.
    expect(text).toContain("if ! (net ~ [ 198.18.100.10/32, 198.18.100.11/32 ]) then reject;");
  });

  it("exports only the peer's family: an IPv4 session never carries the IPv6 VIP", () => {
    const text = renderBird(typicalPlan(), { node: lb(1) })._unsafeUnwrap();
    expect(text).toContain("route 2001:db8:100::1/128 blackhole;");
    expect(text).not.toContain("2001:db8:100::1/128 ]");
  });

  it("a leaving node adds the graceful-shutdown community and prepends; the others do not", () => {
    const draining = renderBird(drainingPlan(), { node: lb(2) })._unsafeUnwrap();
    expect(draining).toContain("bgp_community.add((65535, 0));");
    expect(draining.match(/bgp_path\.prepend\(64512\);/g)).toHaveLength(3);
    expect(renderBird(drainingPlan(), { node: lb(1) })._unsafeUnwrap()).not.toContain("65535, 0");
    expect(renderBird(typicalPlan(), { node: lb(1), gracefulShutdown: true })._unsafeUnwrap()).toContain(
      "bgp_community.add((65535, 0));",
    );
  });

  it("every LB node announces every BGP VIP, each from its own router id and session source", () => {
    for (const n of [1, 2, 3]) {
      const text = renderBird(typicalPlan(), { node: lb(n) })._unsafeUnwrap();
      expect(text).toContain(`router id 198.18.1.${n};`);
      expect(text).toContain(`local 198.18.1.${n} as 64512;`);
      expect(text).toContain("route 198.18.100.10/32 blackhole;");
      // The VRRP pool's VIP is keepalived's, never BIRD's.
      expect(text).not.toContain("198.18.101.");
    }
  });
});
