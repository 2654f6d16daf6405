import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { tmpdir } from "node:os";
import type { Frontend, Plan, ServiceKey } from "@portico/core";
import { start, type Started } from "@portico/host";
import { describeWith, freePort, program, root, waitForLine } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unbindablePorts } from "../src/bindProbe.js";
import { bindLine } from "../src/render/frontend.js";
import { emptyPlan, ident, ip, port, settings } from "./fixtures.js";

// The bind probe is HAProxy itself, so it fails exactly where a reload would. Each kind of socket
// another program may hold on a port, on loopback, against the real haproxy 2.6:
// - bound, not listening, plain (as most programs bind): HAProxy cannot bind -> refused;
// - listening with SO_REUSEADDR (a server, sshd): cannot bind -> refused;
// - bound with SO_REUSEPORT, not listening: the kernel lets HAProxy (SO_REUSEPORT, same uid) bind
//   beside it, so the reload would not fail and the probe does not refuse it. An in-process probe
//   (Node binds without SO_REUSEPORT) would refuse this one, and a VIP it does not hold
//   (EADDRNOTAVAIL without `transparent`), where HAProxy succeeds.

const HOLDER = `import socket,sys,time
S=socket
kind,port=sys.argv[1],int(sys.argv[2])
s=S.socket()
if kind=='reuseaddr-listen': s.setsockopt(S.SOL_SOCKET,S.SO_REUSEADDR,1)
if kind=='reuseport-bound': s.setsockopt(S.SOL_SOCKET,S.SO_REUSEPORT,1)
s.bind(('127.0.0.1',port))
if kind.endswith('listen'): s.listen()
print('ready',flush=True)
time.sleep(120)`;

const KINDS = ["bound", "reuseaddr-listen", "reuseport-bound"] as const;

const frontendOn = (name: string, p: number, vip = "127.0.0.1"): Frontend => ({
  id: ident(`fe_${name}`),
  service: `default/${name}` as ServiceKey,
  vip: ip(vip),
  port: port(p),
  protocol: "TCP",
  backend: ident(`be_${name}`),
});

await describeWith(
  [program("haproxy", ["-v"]), program("python3", ["--version"]), root],
  "bind probe (real haproxy on loopback)",
  () => {
    let dir = "";
    const holders: Started[] = [];
    const ports = new Map<string, number>();

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "portico-bind-probe-test-"));
      for (const kind of KINDS) {
        const p = await freePort();
        ports.set(kind, p);
        const h = (await start("python3", ["-c", HOLDER, kind, String(p)], { stdio: "pipe" }))._unsafeUnwrap();
        holders.push(h);
        await waitForLine(h, "ready");
      }
    });

    afterAll(async () => {
      for (const h of holders) await h.stop("SIGTERM", 2_000);
      if (dir !== "") await rm(dir, { recursive: true, force: true });
    });

    const planWith = (frontends: Frontend[], configPath: string): Plan => ({
      ...emptyPlan(),
      frontends,
      settings: {
        ...settings,
        haproxy: { configPath, statsSocket: join(dir, "admin.sock"), masterSocket: join(dir, "master.sock") },
      },
    });

    it("refuses exactly the ports HAProxy cannot bind: plain bound and listening sockets, not a SO_REUSEPORT one", async () => {
      const free = await freePort();
      const plan = planWith(
        [
          ...KINDS.map((k) => frontendOn(k.replace(/-/g, "_"), ports.get(k)!)),
          frontendOn("free", free),
          // Not an address of this host: HAProxy binds it `transparent`, as on a backup LB node.
          frontendOn("elsewhere", free, "198.18.77.1"),
        ],
        join(dir, "none.cfg"),
      );
      const before = await readdir(tmpdir());
      const taken = await unbindablePorts(plan);
      expect(taken).toEqual([
        { port: ports.get("bound"), address: "127.0.0.1", owner: "HAProxy cannot bind it: Address already in use" },
        {
          port: ports.get("reuseaddr-listen"),
          address: "127.0.0.1",
          owner: "HAProxy cannot bind it: Address already in use",
        },
      ]);
      // The probe left nothing behind: no temp directory, and the free port binds at once.
      expect(
        (await readdir(tmpdir())).filter((f) => f.startsWith("portico-bind-probe-") && !before.includes(f)),
      ).toEqual([]);
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(free, "127.0.0.1", () => resolve());
      });
      server.close();
    });

    it("all free: the probe binds, refuses nothing, and lets go of every port before it returns", async () => {
      const free = await freePort();
      const taken = await unbindablePorts(planWith([frontendOn("a", free)], join(dir, "none.cfg")));
      expect(taken).toEqual([]);
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(free, "127.0.0.1", () => resolve());
      });
      server.close();
    });

    it("never tries a bind the installed haproxy.cfg has already (live traffic is not touched)", async () => {
      const f = frontendOn("bound", ports.get("bound")!);
      const installed = join(dir, "installed.cfg");
      await writeFile(installed, `global\n\nfrontend fe_bound\n    ${bindLine(f.vip, f.port)}\n`);
      expect(await unbindablePorts(planWith([f], installed))).toEqual([]);
    });
  },
);
