import { describe, expect, it } from "vitest";
import { aNode, aParsedConfig, aService, planOf } from "../src/testing/index.js";
import { reasons } from "./_fixtures.js";

describe("dual-stack", () => {
  const dual = [aNode("d1", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }), aNode("v4", "198.18.2.2")];
  it("RequireDualStack without an IPv6 pool is not served and says why", () => {
    const p = planOf(
      [...dual, aService({ ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" })],
      aParsedConfig({ pools: [{ name: "v4", addresses: ["198.18.100.0/28"] }] }),
    );
    expect(p.services[0]).toMatchObject({ state: "failed" });
    expect(p.services[0]?.status.loadBalancer.ingress).toEqual([]);
    expect(reasons(p, "default/web")).toEqual(expect.arrayContaining(["NoPoolForFamily", "DualStackNotServed"]));
    expect(p.frontends).toEqual([]);
  });

  it("PreferDualStack serves the families it can and notes the other", () => {
    const p = planOf(
      [...dual, aService({ ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "PreferDualStack" })],
      aParsedConfig({ pools: [{ name: "v4", addresses: ["198.18.100.0/28"] }] }),
    );
    expect(p.services[0]).toMatchObject({ state: "ready", vips: ["198.18.100.0"] });
    expect(reasons(p, "default/web")).toEqual(["FamilyNotAvailable"]);
  });

  it("SingleStack serves the first family only", () => {
    const p = planOf([...dual, aService({ ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "SingleStack" })]);
    expect(p.services[0]?.vips).toEqual(["2001:db8:100::1"]);
  });
});
