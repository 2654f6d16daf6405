import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLayout, readStats } from "@portico/adapter-haproxy";
import { readKeepalivedState } from "@portico/adapter-keepalived";
import type { Plan } from "@portico/core";
import { main, type Io } from "../src/index.js";
import { buildStatus, formatStatus, parseIpAddr, type StatusSources } from "../src/status-view.js";

// `portico status` over runtime-API answers recorded from a real HAProxy 2.6 (see
// test/status/record.mjs, which re-records them), replayed by a small fake stats socket. The
// goldens change only through PORTICO_UPDATE_GOLDEN=1 (npm run golden:update).

const fixtures = join(import.meta.dirname, "status/fixtures");
const golden = join(import.meta.dirname, "golden/status");
const UPDATE = process.env["PORTICO_UPDATE_GOLDEN"] === "1";
const BATCH = "prompt\nshow stat\nquit\n";

/** A stats socket that answers the recorded batch, and refuses any other (re-record then). */
const replay = async (path: string, raw: string): Promise<{ server: Server; seen: string[] }> => {
  const seen: string[] = [];
  const server = createServer((c) => {
    let got = "";
    c.on("data", (b: Buffer) => {
      got += b.toString();
      if (!got.endsWith("quit\n")) return;
      seen.push(got);
      c.end(got === BATCH ? raw : "Unknown command: the fixtures do not hold this batch; re-record them\n");
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { server, seen };
};

const expectGolden = async (name: string, text: string): Promise<void> => {
  const file = join(golden, name);
  if (UPDATE) {
    await mkdir(golden, { recursive: true });
    await writeFile(file, text);
  }
  expect(existsSync(file), `${file} is missing; create it with PORTICO_UPDATE_GOLDEN=1 and review the diff`).toBe(true);
  expect(text).toBe(await readFile(file, "utf8"));
};

let dir = "";
let fake: { server: Server; seen: string[] };
let sources: StatusSources;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-status-"));
  fake = await replay(join(dir, "admin.sock"), await readFile(join(fixtures, "runtime-answer.txt"), "utf8"));
  const stats = await readStats(join(dir, "admin.sock"));
  sources = {
    node: "lb1",
    interface: "eth0",
    layout: readLayout(await readFile(join(fixtures, "haproxy.cfg"), "utf8")),
    stats: stats._unsafeUnwrap(),
    addresses: parseIpAddr(await readFile(join(fixtures, "ip-addr.json"), "utf8")),
    vrrp: readKeepalivedState(await readFile(join(fixtures, "keepalived.conf"), "utf8")),
    keepalived: "running",
    plan: JSON.parse(await readFile(join(fixtures, "plan.json"), "utf8")) as Plan,
  };
});
afterAll(async () => {
  await new Promise((r) => fake.server.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe("portico status over recorded runtime-API answers", () => {
  it("sends the batch the fixtures were recorded for", () => {
    expect(fake.seen).toEqual([BATCH]);
  });

  it("prints one table per VIP matching its golden", async () => {
    const text = formatStatus(buildStatus(sources));
    await expectGolden("lb1.txt", text);
    // What the golden must show, so a wrong golden cannot pass review by accident.
    expect(text).toContain("VIP 198.18.100.10  held here  VRRP MASTER");
    expect(text).toContain("VIP 198.18.100.12  not held here  VRRP BACKUP");
    // Local policy: every port's slots track the Service's own healthCheckNodePort check (cp-1, the
    // first node, has no endpoints, so its slot is empty).
    expect(text).toMatch(/slot2 +node worker-1 +198\.18\.2\.11:30718 +UP +1 +L7OK 200 \d+ms \(shared check\) +1/);
    expect(text).toMatch(/slot3 +node worker-2 +198\.18\.2\.12:30718 +DOWN +1 +L7STS 503/);
    expect(text).toMatch(/slot2 +node worker-1 +198\.18\.2\.11:31559 +DRAIN/);
    expect(text).toMatch(/slot3 +node worker-2 +198\.18\.2\.12:30893 +MAINT/);
    // shop/web is Cluster policy: slotN tracks the check backend's slotN, the node there.
    expect(text).toMatch(/slot1 +node cp-1 +198\.18\.2\.10:31214 +DOWN +1 +L7RSP \d+ms \(shared check\)/);
    expect(text).toMatch(/slot3 +node worker-2 +198\.18\.2\.12:31214 +MAINT +1 +L7STS 503 \d+ms \(shared check\)/);
    // Empty slots (0.0.0.0:1, in MAINT) are left out, in Local and Cluster backends alike.
    expect(text).not.toContain("slot4");
    expect(text).not.toContain("0.0.0.0:1");
  });

  it("gives the same content as JSON, matching its golden", async () => {
    const view = buildStatus(sources);
    await expectGolden("lb1.json", `${JSON.stringify(view, null, 2)}\n`);
    const web = view.vips.find((v) => v.vip === "198.18.100.11");
    expect(web?.held).toBe(true);
    expect(web?.frontends[0]?.service).toBe("shop/web");
    expect(web?.frontends[0]?.servers.map((s) => [s.target, s.state])).toEqual([
      [{ kind: "node", node: "cp-1" }, "DOWN"],
      [{ kind: "node", node: "worker-1" }, "UP"],
      [{ kind: "node", node: "worker-2" }, "MAINT"],
    ]);
    expect(web?.frontends[0]?.servers[0]?.check).toMatchObject({
      status: "L7RSP",
      via: "chk_kube_proxy_813ce22b3232ecb1/slot1",
    });
  });

  it("names a Cluster slot by the node in the check backend's slot, and leaves out a node outside its subset", () => {
    const cfg = sources.layout;
    const web = [...cfg.backends.keys()].find((b) => b.startsWith("be_shop_web_"))!;
    // As if maxBackendsPerService left worker-1 (check slot2) out of shop/web: its slot is empty
    // there, while the check backend still checks worker-1 for other Services. A slot line
    // without an id comment takes the check slot's.
    const servers = cfg.backends
      .get(web)!
      .map((s) =>
        s.name === "slot2" ? { ...s, endpoint: "0.0.0.0:1", weight: 0, enabled: false } : { ...s, id: s.name },
      );
    const view = buildStatus({ ...sources, layout: { ...cfg, backends: new Map([...cfg.backends, [web, servers]]) } });
    const shown = view.vips.find((v) => v.vip === "198.18.100.11")?.frontends[0]?.servers;
    expect(shown?.map((s) => [s.server, s.target, s.state])).toEqual([
      ["slot1", { kind: "node", node: "cp-1" }, "DOWN"],
      ["slot3", { kind: "node", node: "worker-2" }, "MAINT"],
    ]);
    // Without plan.json the node comes from the check slot's id.
    const { plan: _plan, ...bare } = sources;
    const named = buildStatus({ ...bare, layout: { ...cfg, backends: new Map([...cfg.backends, [web, servers]]) } });
    expect(named.vips.find((v) => v.vip === "198.18.100.11")?.frontends[0]?.servers.map((s) => s.target)).toEqual([
      { kind: "node", node: "cp_1" },
      { kind: "node", node: "worker_2" },
    ]);
  });

  it("without plan.json names nodes from the server ids, and says so when addresses are unknown", () => {
    const { plan: _plan, ...rest } = sources;
    const view = buildStatus({ ...rest, addresses: { error: 'Device "eth0" does not exist.' } });
    const text = formatStatus(view);
    expect(text).toContain("node worker_1");
    expect(text).toContain("held: unknown  VRRP UNKNOWN");
    expect(text).toContain('note: addresses of eth0: Device "eth0" does not exist.');
  });
});

describe("portico status (command)", () => {
  const run = async (argv: string[], extra: Partial<Io> = {}) => {
    let stdout = "";
    let stderr = "";
    const io: Io = {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: {},
      cwd: dir,
      ...extra,
    };
    const code = await main(argv, io);
    return { code, stdout, stderr };
  };
  const config = async (socket: string): Promise<string> => {
    const etc = join(dir, "etc");
    await mkdir(etc, { recursive: true });
    for (const f of ["haproxy.cfg", "plan.json", "keepalived.conf"]) await copyFile(join(fixtures, f), join(etc, f));
    const file = join(dir, `portico-${socket.length}.yaml`);
    // interface lo: every machine has it, and it holds none of the test VIPs.
    await writeFile(
      file,
      `apiVersion: portico.dev/v1alpha1\nkind: PorticoConfig\npools: [{ name: default, addresses: ["198.18.100.10-198.18.100.50"] }]\n` +
        `lbNodes: [{ name: lb1, address: 198.18.1.1, interface: lo }]\n` +
        `haproxy: { configPath: ${etc}/haproxy.cfg, statsSocket: ${socket} }\nkeepalived: { configPath: ${etc}/keepalived.conf, pidFile: ${dir}/none.pid }\n`,
    );
    return file;
  };

  it("reads the installed config, the socket and the interface, as text and JSON", async () => {
    const file = await config(join(dir, "admin.sock"));
    const text = await run(["status", "--config", file, "--node", "lb1"]);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("LB node lb1 (lo): 3 VIPs, 0 held here");
    expect(text.stdout).toContain("VIP 198.18.100.10  not held here  VRRP STOPPED");
    const json = await run(["status", "--config", file, "--node", "lb1", "--output", "json"]);
    const view = JSON.parse(json.stdout) as { vips: { vip: string; frontends: { servers: unknown[] }[] }[] };
    expect(view.vips.map((v) => v.vip)).toEqual(["198.18.100.10", "198.18.100.11", "198.18.100.12"]);
  });

  it("refreshes with --watch until interrupted: plain repeated blocks when not a terminal", async () => {
    const file = await config(join(dir, "admin.sock"));
    const stop = new AbortController();
    let blocks = 0;
    const io: Partial<Io> = {
      interrupt: stop.signal,
      stdout: (t) => {
        if (t.startsWith("Every 200ms at ")) blocks++;
        if (blocks === 2) stop.abort();
      },
    };
    const r = await run(["status", "--config", file, "--node", "lb1", "--watch", "--interval", "200ms"], io);
    expect(r.code).toBe(0);
    expect(blocks).toBe(2);
  });

  it("redraws in place on a terminal, and writes one JSON line per refresh with --output json", async () => {
    const file = await config(join(dir, "admin.sock"));
    for (const [output, tty] of [
      ["text", true],
      ["json", true],
    ] as const) {
      const stop = new AbortController();
      const writes: string[] = [];
      const r = await run(
        ["status", "--config", file, "--node", "lb1", "--watch", "--interval", "200ms", "--output", output],
        {
          interrupt: stop.signal,
          stdoutTty: tty,
          stdout: (t) => {
            writes.push(t);
            if (writes.length === 2) stop.abort();
          },
        },
      );
      expect(r.code).toBe(0);
      if (output === "text") expect(writes.every((w) => w.startsWith("\u001b[H\u001b[J"))).toBe(true);
      else expect(writes.map((w) => (JSON.parse(w) as { node: string }).node)).toEqual(["lb1", "lb1"]);
    }
  });

  it("says what to do when HAProxy is not there: exit 3 with the fix in one line", async () => {
    const missing = await run(["status", "--config", await config(join(dir, "nothing.sock")), "--node", "lb1"]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toBe(
      `portico: cannot read HAProxy's runtime API at ${dir}/nothing.sock (config haproxy.statsSocket): the socket does not exist\n` +
        `hint: HAProxy is not running with this stats socket: start it (systemctl start haproxy) or set haproxy.statsSocket in the config to its "stats socket" path\n`,
    );
    // A file where the socket should be (a stale path): nothing listens.
    await writeFile(join(dir, "stale.sock"), "");
    const stale = await run(["status", "--config", await config(join(dir, "stale.sock")), "--node", "lb1"]);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain("nothing listens on it\nhint: HAProxy is not running");
  });

  it("refuses bad usage with exit 2", async () => {
    const file = await config(join(dir, "admin.sock"));
    expect((await run(["status", "--config", file])).stderr).toBe("portico: status needs --node <lbNode>\n");
    expect((await run(["status", "--config", file, "--node", "lb1", "--output", "yaml"])).code).toBe(2);
    expect((await run(["status", "--config", file, "--node", "lb1", "--interval", "2s"])).stderr).toBe(
      "portico: status: --interval needs --watch\n",
    );
    const bad = await run(["status", "--config", file, "--node", "lb1", "--watch", "--interval", "fast"]);
    expect(bad).toMatchObject({
      code: 2,
      stderr:
        'portico: status: --interval: "fast" is not a duration like 500ms, 5s, 2m or 1h (accepted: 200ms to 1h, e.g. 2s)\n',
    });
    expect((await run(["status", "--config", file, "--node", "lb9"])).code).toBe(2);
  });
});
