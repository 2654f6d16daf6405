import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { applyHaproxy, renderHaproxy, sendCommands, type HaproxyApplyReport } from "@portico/adapter-haproxy";
import { run, start, type Started } from "@portico/host";
import { describeWith, must, program, root, waitForLine } from "@portico/testkit";
import { readInstalled } from "../src/_installed.js";
import { EMPTY_STATES } from "../src/_serverState.js";
import { serverStateFile } from "../src/render/global.js";
import { DataplaneLab, NODES, VIP, type LabService, type NodeId } from "./lab/lab.js";

// What an operator counts on in production, on the real HAProxy in namespaces: a reload does not
// cut long-lived connections, failed nodes are found within the check timing, concurrent applies
// leave the running servers equal to the file, and a restart does not load stale slot states.
// Figures are printed; bounds are the ones docs/operations.md publishes.

const say = (line: string): void => {
  process.stdout.write(`[operations] ${line}\n`);
};
const all: LabService = { servers: { node1: 1, node2: 1, node3: 1 }, unprivileged: true };
const BACKEND = "be_lab_web_80_4";
/** Where node1 runs an echo server that keeps idle connections open (the fake nodes answer and close). */
const ECHO_PORT = 30081;

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), program("nft", ["--version"]), program("chattr", ["-V"]), root],
  "HAProxy operations on the real binary",
  () => {
    const lab = new DataplaneLab();
    let echo: Started | undefined;
    const apply = async (s: LabService): Promise<HaproxyApplyReport> => {
      const r = await applyHaproxy(lab.plan(s));
      if (r.isErr()) throw new Error(r.error.message);
      return r.value;
    };
    const nodeNs = (n: NodeId): string => lab.net!.nodes.find((x) => x.name === n)!.ns;
    // `show servers state` rows of the lab backend. Columns: be_id be_name srv_id srv_name srv_addr
    // srv_op_state srv_admin_state srv_uweight ... srv_port (the 19th).
    const stateRows = async (): Promise<string[][]> =>
      (await sendCommands(`${lab.dir}/admin.sock`, [{ kind: "show-servers-state", backend: BACKEND }]))
        ._unsafeUnwrap()[0]!
        .split("\n")
        .slice(2)
        .map((l) => l.split(" "))
        .filter((f) => f.length > 18);
    const allUp = async (): Promise<boolean> => (await Promise.all(NODES.map((n) => lab.serverUp(n)))).every(Boolean);

    beforeAll(async () => {
      try {
        await lab.up(all);
        await lab.until(allUp, 15_000);
        const script =
          "require('net').createServer((s) => { s.on('error', () => {}); s.pipe(s); }).listen(Number(process.argv[1]), () => console.log('ready'))";
        echo = (
          await start("ip", ["netns", "exec", nodeNs("node1"), process.execPath, "-e", script, String(ECHO_PORT)], {
            stdio: "pipe",
          })
        )._unsafeUnwrap();
        await waitForLine(echo, "ready");
      } catch (e) {
        await lab.down();
        throw e;
      }
    }, 60_000);
    afterAll(async () => {
      await echo?.stop("SIGTERM", 3_000);
      await lab.down();
    }, 30_000);

    it("workers run unprivileged in the chroot, and transparent binds, the sockets and reloads still work", async () => {
      const info = (await sendCommands(`${lab.dir}/admin.sock`, [{ kind: "show-info" }]))._unsafeUnwrap()[0] ?? "";
      const pid = Number(/^Pid: (\d+)$/m.exec(info)?.[1]);
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      expect(uid).not.toBe("0");
      const rootDir = (await run("readlink", [`/proc/${pid}/root`]))._unsafeUnwrap().stdout.trim();
      expect(rootDir).toBe("/var/lib/haproxy");
      const r = await lab.traffic(30, 10_000);
      expect(r.failed).toBe(0);
      expect((await apply({ ...all, extraPorts: [9100] })).action).toBe("reload");
      expect((await lab.traffic(30, 10_000, 2, 9100)).failed).toBe(0);
      expect((await apply(all)).action).toBe("reload");
      say(`worker ${pid} runs as uid ${uid} in ${rootDir}; traffic and two reloads fine`);
    }, 60_000);

    it("a confirmed reload leaves an empty server-state file, so a restart that is not a reload loads no old slot state", async () => {
      expect((await apply({ ...all, extraPorts: [9101] })).action).toBe("reload");
      expect(await readFile(serverStateFile(lab.plan(all).settings.haproxy), "utf8")).toBe(EMPTY_STATES);
      // node3 leaves through the runtime API: its slot is emptied in the file, and no reload happens.
      const two: LabService = { ...all, servers: { node1: 1, node2: 1 }, extraPorts: [9101] };
      expect((await apply(two)).action).toBe("runtime");
      await lab.restartHaproxy(two);
      await lab.until(async () => (await lab.serverUp("node1")) && lab.serverUp("node2"), 15_000);
      // The restarted worker runs the file as it is: every slot at the file's address and port,
      // every slot the file leaves empty in maintenance (admin bit 0x01); none took an old state.
      const file = readInstalled(await readFile(lab.configPath, "utf8")).backends.get(BACKEND) ?? [];
      const rows = await stateRows();
      expect(rows.map((f) => `${f[3]} ${f[4]}:${f[18]}`)).toEqual(file.map((x) => `${x.slot} ${x.endpoint}`));
      const empty = file.filter((x) => !x.enabled).map((x) => x.slot);
      expect(empty.length).toBeGreaterThan(0);
      for (const slot of empty) expect(Number(rows.find((f) => f[3] === slot)?.[6]) & 0x01, slot).toBe(1);
      expect(await lab.serverUp("node3")).toBe(false);
      const r = await lab.traffic(60, 10_000);
      expect(r.failed).toBe(0);
      expect(r.byNode["node3"] ?? 0).toBe(0);
      expect((await apply(all)).action).toBe("reload");
      await lab.until(allUp, 15_000);
    }, 90_000);

    it("two applies at once leave the running servers equal to the file", async () => {
      const sets: LabService[] = [
        { ...all, servers: { node1: 1, node2: 2 } },
        { ...all, servers: { node2: 1, node3: 3 } },
        { ...all, servers: { node1: 2, node3: 1 } },
      ];
      for (let round = 0; round < 4; round++) {
        // Both differ from what runs (the last round's second), and from each other.
        const a = sets[(round + 2) % 3]!;
        const b = sets[(round + 1) % 3]!;
        const reports = await Promise.all([apply(a), apply(b)]);
        const file = readInstalled(await readFile(lab.configPath, "utf8")).backends.get(BACKEND) ?? [];
        const planned = file
          .filter((x) => x.enabled)
          .map((x) => `${x.slot} ${x.endpoint} ${x.weight}`)
          .sort();
        const running = (await stateRows())
          .filter((f) => (Number(f[6]) & 0x21) === 0)
          .map((f) => `${f[3]} ${f[4]}:${f[18]} ${f[7]}`)
          .sort();
        expect(running).toEqual(planned);
        say(`round ${round}: ${reports.map((r) => r.action).join(" + ")}; running = file: ${planned.join(", ")}`);
      }
      expect((await apply(all)).action).not.toBe("unchanged");
      await lab.until(allUp, 15_000);
    }, 90_000);

    it("paces reloads: one within the interval is deferred and applied after it; server changes are not delayed", async () => {
      const paced = { minReloadIntervalMs: 4_000 };
      expect((await apply({ ...all, extraPorts: [9105] })).action).toBe("reload");
      const deferred = (await applyHaproxy(lab.plan({ ...all, extraPorts: [9105, 9106] }), paced))._unsafeUnwrap();
      expect(deferred.action).toBe("deferred");
      expect(deferred.retryInMs).toBeGreaterThan(0);
      expect(deferred.retryInMs).toBeLessThanOrEqual(4_000);
      expect(await readFile(lab.configPath, "utf8")).not.toContain(":9106 ");
      const runtime = await applyHaproxy(
        lab.plan({ ...all, servers: { node1: 1, node2: 1 }, extraPorts: [9105] }),
        paced,
      );
      expect(runtime._unsafeUnwrap().action).toBe("runtime");
      await new Promise((r) => setTimeout(r, deferred.retryInMs));
      const later = await applyHaproxy(lab.plan({ ...all, extraPorts: [9105, 9106] }), paced);
      expect(later._unsafeUnwrap().action).toBe("reload");
      expect((await lab.traffic(20, 10_000, 2, 9106)).failed).toBe(0);
      await apply(all);
      await lab.until(allUp, 15_000);
    }, 60_000);

    it("reloads a file that is written but not running instead of calling it unchanged", async () => {
      const next: LabService = { ...all, extraPorts: [9104] };
      const previous = await readFile(lab.configPath, "utf8");
      await writeFile(lab.configPath, renderHaproxy(lab.plan(next), { previous })._unsafeUnwrap());
      const r = await apply(next);
      expect(r.action).toBe("reload");
      expect(r.note).toContain("generation");
      expect((await apply(next)).action).toBe("unchanged");
      await apply(all);
    }, 60_000);

    it("a file that cannot be written stops the apply before any runtime command", async () => {
      await apply(all);
      await lab.until(allUp, 15_000);
      await must("chattr", ["+i", lab.configPath]);
      try {
        const r = await applyHaproxy(lab.plan({ ...all, servers: { node1: 1, node2: 1 } }));
        expect(r.isErr()).toBe(true);
        expect(r._unsafeUnwrapErr().message).toContain("cannot write");
        // node3 was not taken out of the running worker: nothing was sent.
        expect(await lab.serverUp("node3")).toBe(true);
        expect((await lab.traffic(60, 10_000)).byNode["node3"] ?? 0).toBeGreaterThan(0);
      } finally {
        await must("chattr", ["-i", lab.configPath]);
      }
      expect((await apply({ ...all, servers: { node1: 1, node2: 1 } })).action).toBe("runtime");
      expect(await lab.serverUp("node3")).toBe(false);
      await apply(all);
      await lab.until(allUp, 15_000);
    }, 60_000);

    it("an idle connection opened before a reload is still open 60 s after it", async () => {
      const echoOnly: LabService = { ...all, servers: { node1: 1 }, nodePort: ECHO_PORT };
      await apply(echoOnly);
      await lab.until(async () => lab.serverUp("node1"), 15_000);
      // The client opens a connection, proves it works, says so, stays silent 62 s, then proves it again.
      const script = [
        "const s = require('net').connect(80, process.argv[1]);",
        "let seen = '';",
        "s.on('data', (d) => { seen += d; if (seen === 'one\\n') { console.log('open'); setTimeout(() => s.write('two\\n'), 62000); }",
        "  if (seen === 'one\\ntwo\\n') { console.log('alive'); s.destroy(); } });",
        "s.on('close', () => { console.log('closed'); process.exit(0); });",
        "s.on('error', (e) => console.log('error ' + e.code));",
        "s.write('one\\n');",
        "setTimeout(() => { console.log('timeout'); process.exit(0); }, 75000);",
      ].join("\n");
      const client = (
        await start("ip", ["netns", "exec", lab.client, process.execPath, "-e", script, VIP], { stdio: "pipe" })
      )._unsafeUnwrap();
      let out = "";
      client.stdout!.on("data", (b: Buffer) => (out += b.toString()));
      try {
        await waitForLine(client, "open");
        // An unrelated change that needs a reload (a new port), then another.
        const t0 = Date.now();
        expect((await apply({ ...echoOnly, extraPorts: [9102] })).action).toBe("reload");
        expect((await apply({ ...echoOnly, extraPorts: [9102, 9103] })).action).toBe("reload");
        await client.exited;
        const lines = out.trim().split("\n");
        say(`idle tunnel across two reloads: ${lines.join(", ")} (${Date.now() - t0} ms after the first reload)`);
        expect(lines).toEqual(["open", "alive", "closed"]);
        // The old workers still hold it until the client closed: they were not stopped at 30 s.
        expect(Date.now() - t0).toBeGreaterThanOrEqual(60_000);
      } finally {
        await client.stop("SIGKILL");
      }
      await apply(all);
      await lab.until(allUp, 15_000);
    }, 120_000);

    // Each failure kind on its own node, with the lab's timing and with the config's defaults.
    const failures: {
      readonly kind: string;
      readonly node: NodeId;
      readonly fail: () => Promise<unknown>;
      readonly heal: () => Promise<unknown>;
    }[] = [
      {
        kind: "blackholed",
        node: "node1",
        fail: () => nft("node1", ["policy", "drop", ";"]),
        heal: () => must("ip", ["netns", "exec", nodeNs("node1"), "nft", "delete", "table", "inet", "lab_fail"]),
      },
      {
        kind: "refused",
        node: "node2",
        fail: async () => {
          await nft("node2", []);
          await must("ip", [
            "netns",
            "exec",
            nodeNs("node2"),
            "nft",
            "add",
            "rule",
            "inet",
            "lab_fail",
            "in",
            "tcp",
            "dport",
            "32100",
            "reject",
            "with",
            "tcp",
            "reset",
          ]);
        },
        heal: () => must("ip", ["netns", "exec", nodeNs("node2"), "nft", "delete", "table", "inet", "lab_fail"]),
      },
      {
        kind: "hung /healthz",
        node: "node3",
        fail: async () => {
          process.kill(lab.net!.nodes.find((x) => x.name === "node3")!.proc.pid, "SIGSTOP");
        },
        heal: async () => {
          process.kill(lab.net!.nodes.find((x) => x.name === "node3")!.proc.pid, "SIGCONT");
        },
      },
    ];
    const nft = async (n: NodeId, policy: readonly string[]): Promise<void> => {
      const ns = nodeNs(n);
      await must("ip", ["netns", "exec", ns, "nft", "add", "table", "inet", "lab_fail"]);
      await must("ip", [
        "netns",
        "exec",
        ns,
        "nft",
        "add",
        "chain",
        "inet",
        "lab_fail",
        "in",
        "{",
        "type",
        "filter",
        "hook",
        "input",
        "priority",
        "0",
        ";",
        ...policy,
        "}",
      ]);
    };

    // A failing check waits for its timeout and the next starts `fastinter` after it ends: down
    // within inter + fall x timeout + (fall - 1) x fastinter. The check's timeout is
    // min(1 s, (fastinter + 1 s) / fall), at least 500 ms: 1 s for the lab's timing, 500 ms for the
    // defaults (fall 3, fastinter 500 ms), so both fit the inter + fall x fastinter + 2 s
    // with 1 s to spare. A check backend (the lab's Cluster plan; the planner puts Local Services
    // behind one too) shortens the connect and the read; a backend that checks on its own (the
    // lab's hand-built Local plan) serves clients too, so only the read, and a blackholed node
    // there waits the clients' 1 s connect timeout per check.
    const within = (t: { intervalMs: number; fall: number; fastinterMs: number }): number =>
      t.intervalMs + t.fall * t.fastinterMs + 2000;
    for (const timing of [
      {
        name: "lab",
        policy: "Local",
        intervalMs: 2000,
        fall: 2,
        fastinterMs: 1500,
        blackholed: 2000 + 2 * 1500 + 2000,
      },
      {
        name: "defaults",
        policy: "Cluster",
        intervalMs: 2000,
        fall: 3,
        fastinterMs: 500,
        blackholed: 2000 + 3 * 500 + 2000,
      },
      // Local: inter + fall x 1 s + (fall - 1) x fastinter = 6 s for a blackholed node, asserted with 1 s to spare.
      {
        name: "defaults",
        policy: "Local",
        intervalMs: 2000,
        fall: 3,
        fastinterMs: 500,
        blackholed: 2000 + 3 * 1000 + 2 * 500 + 1000,
      },
    ] as const)
      it(`marks a blackholed, refused or hung node down within ${within(timing)} ms, blackholed ${timing.blackholed} ms (${timing.name}, ${timing.policy}: inter ${timing.intervalMs} ms, fall ${timing.fall}, fastinter ${timing.fastinterMs} ms)`, async () => {
        const { intervalMs, fall, fastinterMs, policy } = timing;
        await apply({ ...all, policy, intervalMs, fall, fastinterMs, rise: 2 });
        await lab.until(allUp, 20_000);
        const measured: string[] = [];
        for (const f of failures) {
          const bound = f.kind === "blackholed" ? timing.blackholed : within(timing);
          const t0 = Date.now();
          await f.fail();
          let ms: number;
          try {
            ms = await lab.until(async () => !(await lab.serverUp(f.node)), bound + 10_000);
            // While it is down, every connection goes to the other nodes.
            const r = await lab.traffic(30, 10_000);
            expect(r.failed).toBe(0);
            expect(r.byNode[f.node] ?? 0).toBe(0);
          } finally {
            await f.heal();
          }
          measured.push(`${f.kind} ${ms} ms (bound ${bound} ms)`);
          await lab.until(async () => lab.serverUp(f.node), 20_000);
          expect(ms, `${f.kind}: ${Date.now() - t0} ms`).toBeLessThanOrEqual(bound);
        }
        say(`down after (${timing.name}, ${policy}): ${measured.join("; ")}`);
      }, 180_000);

    // The shorter check timeout (500 ms with the defaults) still passes a /healthz that takes 300 ms.
    it("keeps a node whose /healthz answers in 300 ms up (defaults, Cluster and Local)", async () => {
      const node = lab.net!.nodes.find((x) => x.name === "node1")!;
      const delay = async (ms: number): Promise<void> => {
        node.proc.stdin!.write(`delay ${ms}\n`);
        await waitForLine(node.proc, `delay ${ms}`);
      };
      try {
        for (const policy of ["Cluster", "Local"] as const) {
          await apply({ ...all, policy, intervalMs: 2000, fall: 3, fastinterMs: 500, rise: 2 });
          await lab.until(allUp, 20_000);
          await delay(300);
          // Long enough for four checks at inter 2 s, each taking 300 ms.
          const until = Date.now() + 9_000;
          while (Date.now() < until) {
            expect(await lab.serverUp("node1"), `${policy}: node1 marked down`).toBe(true);
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      } finally {
        await delay(0);
      }
      say("a /healthz answering in 300 ms stayed up for 9 s (Cluster and Local, defaults)");
    }, 90_000);

    // Last: the killed node does not come back for any later test.
    it("marks a node whose process was killed down within inter + (fall - 1) x fastinter + 2 s (defaults)", async () => {
      await apply({ ...all, intervalMs: 2000, fall: 3, fastinterMs: 500, rise: 2 });
      await lab.until(allUp, 20_000);
      const node = lab.net!.nodes.find((x) => x.name === "node2")!;
      process.kill(node.proc.pid, "SIGKILL");
      const ms = await lab.until(async () => !(await lab.serverUp("node2")), 15_000);
      const r = await lab.traffic(30, 10_000);
      expect(r.failed).toBe(0);
      expect(r.byNode["node2"] ?? 0).toBe(0);
      say(`down after (defaults): process killed ${ms} ms`);
      expect(ms).toBeLessThanOrEqual(2000 + 2 * 500 + 2000);
    }, 60_000);
  },
);
