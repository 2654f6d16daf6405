import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LbNodeName } from "@portico/core";
import { describeWith, program, root } from "@portico/testkit";
import { run } from "@portico/host";
import { afterAll, expect, it } from "vitest";
import {
  applyNftables,
  applyNftablesMembership,
  listPorticoTables,
  readNftablesKernelState,
  readNftablesState,
  renderNftables,
  renderNftablesMembership,
  tablesNamedIn,
} from "../src/index.js";
import { removeScratch, scratchNetns } from "./_scratch.js";
import { sctpPlan, typicalPlan } from "./fixtures.js";

// Loading for real, in a scratch namespace: what nft refuses is never written, a membership
// change replaces map elements in place (the rules and their counters stay), and the tables of
// others are never touched.

const node = "lb1" as LbNodeName;
const dir = mkdtempSync(join(tmpdir(), "portico-nftables-apply-"));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await removeScratch();
});
const nftIn = async (netns: string, args: readonly string[]) => {
  const r = await run("ip", ["netns", "exec", netns, "nft", ...args]);
  return r._unsafeUnwrap();
};

await describeWith([root, program("nft", ["--version"])], "nftables apply", () => {
  it("reads each listener's slots from the kernel map by map: a node moved out holds none, a table the kernel lost reads empty", async () => {
    const netns = await scratchNetns();
    const configPath = join(dir, "kernel.conf");
    const plan = typicalPlan();
    const text = renderNftables(plan, { node })._unsafeUnwrap();
    (await applyNftables(text, { netns, configPath, force: true }))._unsafeUnwrap();
    const slots = async () =>
      new Map(
        (await readNftablesKernelState(text, { netns }))!.listeners.map((l) => [
          `${l.mode} ${l.id}`,
          l.shares.reduce((n, s) => n + s.slots, 0),
        ]),
      );
    // As installed: each listener's map is full, as in the file.
    const file = readNftablesState(text).listeners;
    expect(file.length).toBeGreaterThan(1);
    expect(await slots()).toEqual(new Map(file.map((l) => [`${l.mode} ${l.id}`, l.size])));
    // The health loop moves a node out: the kernel's maps, not the file, say it holds nothing.
    const down = new Set(["worker-1"]);
    (
      await applyNftablesMembership(renderNftablesMembership(plan, { node, down })._unsafeUnwrap(), { netns })
    )._unsafeUnwrap();
    const worker1 = (await readNftablesKernelState(text, { netns }))!.listeners
      .flatMap((l) => l.shares)
      .filter((s) => s.target.startsWith("198.18.2.1 ") || s.target === "198.18.2.1");
    expect(worker1.length).toBeGreaterThan(0);
    expect(worker1.every((s) => s.slots === 0)).toBe(true);
    // The netdev table deleted behind Portico's back: its direct listeners read empty, nat's stay.
    await nftIn(netns, ["delete", "table", "netdev", "portico"]);
    const after = await slots();
    for (const l of file) expect(after.get(`${l.mode} ${l.id}`)! > 0).toBe(l.mode === "nat");
  });

  it("tells which of its tables the kernel holds, and which tables a membership transaction writes into", async () => {
    const netns = await scratchNetns();
    const plan = typicalPlan();
    const text = renderNftables(plan, { node })._unsafeUnwrap();
    const membership = renderNftablesMembership(plan, { node })._unsafeUnwrap();
    expect(tablesNamedIn(membership)).toEqual(new Set(["inet", "netdev"]));
    // nat alone writes into the inet table alone.
    expect(tablesNamedIn(renderNftablesMembership(sctpPlan(), { node })._unsafeUnwrap())).toEqual(new Set(["inet"]));
    (await applyNftables(text, { netns, configPath: join(dir, "tables.conf"), force: true }))._unsafeUnwrap();
    // Another program's tables, one of them named portico in a family Portico does not use, are not Portico's.
    await nftIn(netns, ["add", "table", "ip", "portico"]);
    await nftIn(netns, ["add", "table", "inet", "filter"]);
    expect(await listPorticoTables({ netns })).toEqual(new Set(["inet", "netdev"]));
    // `nft flush ruleset`, as a host firewall's reload runs it: none left.
    await nftIn(netns, ["flush", "ruleset"]);
    expect(await listPorticoTables({ netns })).toEqual(new Set());
    await nftIn(netns, ["add", "table", "inet", "portico"]);
    expect(await listPorticoTables({ netns })).toEqual(new Set(["inet"]));
    // A namespace that does not exist cannot be asked: no answer, not "no tables".
    expect(await listPorticoTables({ netns: "portico-no-such-netns" })).toBeUndefined();
  });

  it("a ruleset nft -c refuses is neither written nor loaded; the installed one stays", async () => {
    const netns = await scratchNetns();
    const configPath = join(dir, "refused.conf");
    const good = renderNftables(typicalPlan(), { node })._unsafeUnwrap();
    expect((await applyNftables(good, { netns, configPath }))._unsafeUnwrap()).toBe("loaded");
    const bad = good.replace("masquerade", "masquerade to nowhere");
    const r = await applyNftables(bad, { netns, configPath });
    expect(r._unsafeUnwrapErr().kind).toBe("validate");
    expect(readFileSync(configPath, "utf8")).toBe(good);
    expect((await nftIn(netns, ["list", "table", "inet", "portico"])).stdout).toContain("masquerade");
  });

  it("leaves other tables alone and moves a node out and back in as element updates only", async () => {
    const netns = await scratchNetns();
    const configPath = join(dir, "nftables.conf");
    await nftIn(netns, ["add", "table", "inet", "neighbour"]);
    const plan = typicalPlan();
    (
      await applyNftables(renderNftables(plan, { node })._unsafeUnwrap(), { netns, configPath, force: true })
    )._unsafeUnwrap();
    const handlesBefore = (await nftIn(netns, ["-a", "list", "chain", "inet", "portico", "prerouting"])).stdout;
    const down = new Set(["worker-1"]);
    (
      await applyNftablesMembership(renderNftablesMembership(plan, { node, down })._unsafeUnwrap(), { netns })
    )._unsafeUnwrap();
    const listed = (await nftIn(netns, ["list", "table", "inet", "portico"])).stdout;
    const dns = readNftablesState(listed).listeners.find((l) => l.id.includes("dns"))!;
    expect(dns.shares.find((s) => s.target.startsWith("198.18.2.1 "))?.slots).toBe(0);
    expect(dns.shares.reduce((n, s) => n + s.slots, 0)).toBe(dns.size);
    // The same rules, with the same handles: nothing but the maps changed.
    expect((await nftIn(netns, ["-a", "list", "chain", "inet", "portico", "prerouting"])).stdout).toBe(handlesBefore);
    (
      await applyNftablesMembership(renderNftablesMembership(plan, { node })._unsafeUnwrap(), { netns })
    )._unsafeUnwrap();
    const back = readNftablesState((await nftIn(netns, ["list", "table", "inet", "portico"])).stdout);
    const want = readNftablesState(renderNftables(plan, { node })._unsafeUnwrap()).listeners.filter(
      (l) => l.mode === "nat",
    );
    expect(back.listeners.map(({ counters: _c, ...l }) => l)).toEqual(want);
    expect(back.listeners.every((l) => l.counters?.forwarded === 0)).toBe(true);
    expect((await nftIn(netns, ["list", "tables"])).stdout).toContain("table inet neighbour");
  });
});
