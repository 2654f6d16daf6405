import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, expect, it } from "vitest";
import { describeWith, program } from "@portico/testkit";
import { renderHaproxy, validateHaproxy } from "@portico/adapter-haproxy";
import { aNode, anEndpointSlice, aParsedConfig, aService, planOf } from "@portico/core/testing";
import { readInstalled } from "../src/_installed.js";
import { goldenCases, typicalPlan } from "./fixtures.js";

const golden = (name: string): Promise<string> =>
  readFile(fileURLToPath(new URL(`./golden/${name}.cfg`, import.meta.url)), "utf8");
const typical = (): string => renderHaproxy(typicalPlan(), {})._unsafeUnwrap();

// Each test gets its own TMPDIR, so "the temp directory is gone afterwards" is checked exactly.
let sandbox = "";
let savedTmp: string | undefined;
beforeEach(async () => {
  sandbox = await mkdtemp(join(tmpdir(), "portico-haproxy-test-"));
  savedTmp = process.env["TMPDIR"];
  process.env["TMPDIR"] = sandbox;
});
afterEach(async () => {
  if (savedTmp === undefined) delete process.env["TMPDIR"];
  else process.env["TMPDIR"] = savedTmp;
  await rm(sandbox, { recursive: true, force: true });
});

await describeWith([program("haproxy", ["-v"])], "haproxy -c", () => {
  for (const name of Object.keys(goldenCases)) {
    it(`accepts test/golden/${name}.cfg`, async () => {
      const r = await validateHaproxy(await golden(name), {});
      expect(r.isOk(), r.isErr() ? r.error.message : "").toBe(true);
      expect(await readdir(sandbox)).toEqual([]);
    });
  }

  it("accepts what the real planner makes of an IPv4 and IPv6 cluster", async () => {
    const plan = planOf([
      aNode("worker-1", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }),
      aNode("worker-2", "198.18.2.2", { moreIps: ["2001:db8:2::2"] }),
      aService({
        name: "web",
        policy: "Local",
        ipFamilies: ["IPv4", "IPv6"],
        annotations: { "portico.dev/proxy-protocol": "v2" },
      }),
      anEndpointSlice("default", "web", [{ ip: "10.0.0.1", node: "worker-1" }]),
      aService({
        namespace: "shop",
        name: "api",
        ports: [
          { port: 443, nodePort: 31443 },
          { port: 80, nodePort: 31080 },
        ],
      }),
      aService({ namespace: "infra", name: "dns", ipFamilies: ["IPv6"], ports: [{ port: 53, nodePort: 30053 }] }),
    ]);
    expect(plan.backends.map((b) => b.family).sort()).toEqual([4, 4, 4, 6, 6]);
    const text = renderHaproxy(plan, {})._unsafeUnwrap();
    const r = await validateHaproxy(text, { plan });
    expect(r.isOk(), r.isErr() ? r.error.message : "").toBe(true);
  });

  it("accepts a Local Service failing open (no endpoint ready anywhere): its terminating node checked on the nodePort, tracking nothing", async () => {
    const plan = planOf([
      aNode("worker-1", "198.18.2.1"),
      aNode("worker-2", "198.18.2.2"),
      aService({ name: "web", policy: "Local" }),
      anEndpointSlice("default", "web", [
        { ip: "10.0.0.1", node: "worker-1", ready: false, serving: true, terminating: true },
      ]),
    ]);
    const text = renderHaproxy(plan, {})._unsafeUnwrap();
    const section = text.slice(text.indexOf(`\nbackend ${plan.backends[0]!.id}`)).split("\n\n")[0]!;
    expect(section).toMatch(/\n {4}default-server check inter 2s .*fall 3 rise 2\n/);
    expect(section).toContain(" 198.18.2.1:30080 ");
    expect(section).not.toContain("track");
    expect(text).not.toContain(":32000");
    const r = await validateHaproxy(text, { plan });
    expect(r.isOk(), r.isErr() ? r.error.message : "").toBe(true);
    // Once a pod is ready the servers track the health port again: how they are checked changed,
    // which the runtime API cannot do, so the layouts differ and the apply reloads.
    const tracking = planOf([
      aNode("worker-1", "198.18.2.1"),
      aNode("worker-2", "198.18.2.2"),
      aService({ name: "web", policy: "Local" }),
      anEndpointSlice("default", "web", [{ ip: "10.0.0.1", node: "worker-1" }]),
    ]);
    const back = renderHaproxy(tracking, {})._unsafeUnwrap();
    expect(back).toContain(":32000");
    expect(readInstalled(back).skeleton).not.toBe(readInstalled(text).skeleton);
  });

  it("accepts pod backends, IPv6 stick tables, long source-range lists and shared checks from the real planner", async () => {
    const ranges = Array.from({ length: 20 }, (_, i) => `198.18.${i}.0/24`).concat(["2001:db8:7::/48"]);
    const plan = planOf(
      [
        aNode("worker-1", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }),
        aNode("worker-2", "198.18.2.2", { moreIps: ["2001:db8:2::2"] }),
        aService({
          name: "pods",
          allocateLoadBalancerNodePorts: false,
          ports: [{ name: "http", port: 80 }],
          sessionAffinity: "ClientIP",
        }),
        anEndpointSlice("default", "pods", [{ ip: "10.0.0.1", node: "worker-1" }], "a", {
          ports: [{ name: "http", port: 8080 }],
        }),
        aService({
          name: "v6",
          ipFamilies: ["IPv6"],
          sessionAffinity: "ClientIP",
          loadBalancerSourceRanges: ranges,
          annotations: { "portico.dev/proxy-protocol": "v1", "portico.dev/timeout-tunnel": "2h" },
        }),
      ],
      aParsedConfig({ podIpsRoutable: true }),
    );
    expect(plan.backends.map((b) => [b.target, b.family, b.affinity?.kind])).toEqual([
      ["pod", 4, "clientIp"],
      ["nodePort", 6, "clientIp"],
    ]);
    const text = renderHaproxy(plan, {})._unsafeUnwrap();
    expect(text).toContain("stick-table type ipv6");
    expect(text.match(/acl src_allowed src /g)).toHaveLength(2);
    const r = await validateHaproxy(text, { plan });
    expect(r.isOk(), r.isErr() ? r.error.message : "").toBe(true);
  });

  it("rejects a broken backend with its ALERT, its section and the Service at fault", async () => {
    const text = typical().replace("balance leastconn", "balance fastest");
    const e = (await validateHaproxy(text, { plan: typicalPlan() }))._unsafeUnwrapErr();
    expect(e).toMatchObject({ kind: "validate", adapter: "haproxy", service: "shop/api" });
    expect(e.message).toMatch(/^haproxy -c rejected the configuration:\n/);
    expect(e.message).toMatch(
      /parsing \[haproxy\.cfg:\d+\] : balance only supports .* \(in backend be_shop_api_443_4_5b0e91d3, Service shop\/api\)/,
    );
    expect(e.message).not.toContain(sandbox);
    expect(await readdir(sandbox)).toEqual([]);
  });

  it("maps a bad IPv6 bind to its frontend, not to the brackets of the address", async () => {
    const text = typical().replace("bind [2001:db8:100::10]:80", "bind [2001:db8:100::zz]:80");
    const e = (await validateHaproxy(text, { plan: typicalPlan() }))._unsafeUnwrapErr();
    expect(e).toMatchObject({ kind: "validate", service: "default/web" });
    expect(e.message).toContain("(in frontend fe_default_web_80_6_41d7be08, Service default/web)");
  });

  it("names the Service from an alert that carries no line number", async () => {
    const text = typical().replace("default_backend be_shop_api_443_4_5b0e91d3", "default_backend be_nowhere");
    const e = (await validateHaproxy(text, { plan: typicalPlan() }))._unsafeUnwrapErr();
    expect(e).toMatchObject({ kind: "validate", service: "shop/api" });
    expect(e.message).toContain("unable to find required default_backend");
  });

  it("names the section but no Service without a plan, and none for global", async () => {
    const noPlan = (
      await validateHaproxy(typical().replace("balance leastconn", "balance fastest"), {})
    )._unsafeUnwrapErr();
    expect(noPlan.service).toBeUndefined();
    expect(noPlan.message).toContain("(in backend be_shop_api_443_4_5b0e91d3)");
    const global = (
      await validateHaproxy(typical().replace("    master-worker\n", "    no-such-keyword\n"), { plan: typicalPlan() })
    )._unsafeUnwrapErr();
    expect(global).toMatchObject({ kind: "validate" });
    expect(global.service).toBeUndefined();
    expect(global.message).toContain("unknown keyword 'no-such-keyword' in 'global' section");
  });
});
