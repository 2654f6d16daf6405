import { planVrrp, type LbNode, type LbNodeName, type Plan } from "@portico/core";
import { describe, expect, it } from "vitest";
import { readKeepalivedState, renderKeepalived } from "../src/index.js";
import { settings, typicalPlan } from "./fixtures.js";

describe("readKeepalivedState", () => {
  it("reads back every instance's VRID, VIPs and intended master from a rendered config", () => {
    const plan = typicalPlan();
    for (const node of plan.lbNodes) {
      const state = readKeepalivedState(renderKeepalived(plan, { node: node.name })._unsafeUnwrap());
      expect(state.instances).toEqual(
        plan.vrrpInstances.map((i) => ({ vrid: i.vrid, vips: i.vips, master: i.priorities[0]!.lbNode })),
      );
    }
  });

  it("keeps VRIDs when the plan is made again from the installed config alone", () => {
    const lbNodes: LbNode[] = typicalPlan().lbNodes.map((n) => ({ ...n }));
    const vips = typicalPlan().vrrpInstances.flatMap((i) => i.vips);
    const first: Plan = { ...typicalPlan(), vrrpInstances: planVrrp(vips, lbNodes, settings.vrrp).instances };
    const installed = renderKeepalived(first, { node: "lb2" as LbNodeName })._unsafeUnwrap();
    // The oldest VIP goes away; every other VIP keeps its VRID and master.
    const again = planVrrp(vips.slice(1), lbNodes, settings.vrrp, readKeepalivedState(installed)).instances;
    for (const inst of again) {
      const was = first.vrrpInstances.find((i) => i.vips[0] === inst.vips[0])!;
      expect(inst.vrid).toBe(was.vrid);
      expect(inst.priorities[0]).toEqual(was.priorities[0]);
    }
  });

  it("leaves out what does not parse instead of guessing", () => {
    const text = [
      "vrrp_instance a {",
      "    virtual_router_id 300",
      "    virtual_ipaddress {",
      "        198.18.100.1/32 dev eth0",
      "    }",
      "}",
      "vrrp_instance b {",
      "    virtual_router_id 7",
      "    virtual_ipaddress {",
      "        not-an-ip dev eth0",
      "    }",
      "}",
    ].join("\n");
    expect(readKeepalivedState(text).instances).toEqual([]);
    expect(readKeepalivedState("").instances).toEqual([]);
  });
});
