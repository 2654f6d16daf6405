import { describe, expect, it } from "vitest";
import { parseAlerts, sectionAt, serviceOf } from "../src/_alerts.js";
import { typicalPlan } from "./fixtures.js";

const TEXT = [
  "global",
  "    master-worker",
  "",
  "frontend fe_a",
  "    bind [2001:db8::1]:80",
  "",
  "backend be_shop_api_443_4_5b0e91d3",
  "    balance x",
  "",
].join("\n");
const FILE = "/tmp/portico-haproxy-AbC123/haproxy.cfg";

describe("haproxy -c alerts", () => {
  it("finds the section that holds a line", () => {
    expect(sectionAt(TEXT, 2)).toEqual({ kind: "global", name: "" });
    expect(sectionAt(TEXT, 5)).toEqual({ kind: "frontend", name: "fe_a" });
    expect(sectionAt(TEXT, 8)).toEqual({ kind: "backend", name: "be_shop_api_443_4_5b0e91d3" });
  });

  it("keeps ALERT lines only, drops the pid, and hides the temp path", () => {
    const out = [
      "[NOTICE]   (77) : haproxy version is 2.6.12",
      `[ALERT]    (77) : config : parsing [${FILE}:8] : balance only supports 'roundrobin'.`,
      `[ALERT]    (77) : config : Error(s) found in configuration file : ${FILE}`,
    ].join("\n");
    expect(parseAlerts(out, FILE, "haproxy.cfg", TEXT)).toEqual([
      {
        text: "config : parsing [haproxy.cfg:8] : balance only supports 'roundrobin'.",
        section: { kind: "backend", name: "be_shop_api_443_4_5b0e91d3" },
      },
      { text: "config : Error(s) found in configuration file : haproxy.cfg" },
    ]);
  });

  it("does not read a bracketed IPv6 address as a line reference", () => {
    const out = "[ALERT]    (77) : config : 'bind' : invalid address: '[2001:db8::1]' in '[2001:db8::1]:80'";
    expect(parseAlerts(out, FILE, "haproxy.cfg", TEXT)[0]?.section).toBeUndefined();
  });

  it("maps a frontend or backend of the plan to its Service", () => {
    const plan = typicalPlan();
    expect(serviceOf(plan, { kind: "backend", name: "be_shop_api_443_4_5b0e91d3" })).toBe("shop/api");
    expect(serviceOf(plan, { kind: "frontend", name: "fe_default_web_80_6_41d7be08" })).toBe("default/web");
    expect(serviceOf(plan, { kind: "global", name: "" })).toBeUndefined();
    expect(serviceOf(undefined, { kind: "backend", name: "be_shop_api_443_4_5b0e91d3" })).toBeUndefined();
  });
});
