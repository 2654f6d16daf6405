import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { aNode, aService } from "@portico/core/testing";
import { start, type Started } from "@portico/host";
import {
  describeWith,
  freePort,
  KubeApiServer,
  NetnsLab,
  NODE_PORT,
  program,
  root,
  until,
  waitForLine,
} from "@portico/testkit";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { CLEANUP, ingressOf, metaOf, regardingOf, sayer, sleep, type Obj } from "./e2e/harness.js";
import {
  buildOneLb,
  installedCfg,
  nodeAddressAt,
  oneLbConfig,
  startHaproxyOn,
  startPortico,
  trafficFrom,
  type PorticoRun,
} from "./e2e/one-lb.js";

// Status says what the LB node installed, not what it planned. In e2e/one-lb.ts's lab (one LB node,
// real HAProxy, two fake nodes) something else already holds 0.0.0.0:2222 in the LB namespace; a
// Service on port 2222 then makes every reload fail to bind, and HAProxy is rolled back to what it
// ran before. Then a program listens on a port, as sshd does on 0.0.0.0:22.
//   web (port 80) is served before; ssh (port 2222) is the Service whose apply fails.

const POOL = ["198.18.100.10", "198.18.100.11", "198.18.100.12"] as const;
const NODES = ["node1", "node2"] as const;
const say = sayer("portico run installed e2e");
/** A safety cap on each wait (a loaded 2-core machine is slow), never a target. */
const CAP = 30_000;

type Condition = { type: string; status: string; reason: string; message: string };
const conditionsOf = (o: Obj | undefined): Condition[] =>
  (((o?.["status"] ?? {}) as Obj)["conditions"] ?? []) as Condition[];
const readyOf = (o: Obj | undefined): Condition | undefined =>
  conditionsOf(o).find((c) => c.type === "portico.dev/LoadBalancerReady");

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), program("python3", ["--version"]), root],
  "portico run publishes what its LB node installed (real HAProxy, a port already taken)",
  () => {
    const netns = new NetnsLab();
    let fakeNodes: readonly Started[] = [];
    let api: KubeApiServer | undefined;
    let portico: PorticoRun | undefined;
    let haproxy: Started | undefined;
    let squatter: Started | undefined;
    let dir = "";
    let lb = "";
    let client = "";
    let listen = 0;
    let sshVip = "";
    let beforeHaproxy: { readyz: { status: number; text: string }; statusWrites: number } | undefined;

    const server = (): KubeApiServer => api!;
    const svc = (name: string): Obj | undefined => server().get("Service", "default", name);
    const readyz = async (): Promise<{ status: number; text: string }> => {
      const r = await fetch(`http://127.0.0.1:${listen}/readyz`);
      return { status: r.status, text: await r.text() };
    };
    const metric = async (name: string): Promise<number | undefined> => {
      const text = await (await fetch(`http://127.0.0.1:${listen}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith(`${name} `));
      return line === undefined ? undefined : Number(line.split(" ")[1]);
    };
    const eventsAbout = (name: string): Obj[] =>
      server()
        .list("Event")
        .filter((e) => regardingOf(e) === name);
    const statusWritesOf = (name: string) =>
      server()
        .writes()
        .filter((w) => w.path.endsWith(`/services/${name}/status`));
    const failedApplies = (): number =>
      (portico?.logs() ?? "").split("\n").filter((l) => l.includes('"msg":"apply failed')).length;

    beforeAll(async () => {
      try {
        dir = await mkdtemp("/tmp/portico-installed-e2e-");
        ({ lb, client, fakeNodes } = await buildOneLb(netns, POOL, NODES));
        api = await new KubeApiServer().start();
        for (const [i, n] of NODES.entries()) api.put(aNode(n, nodeAddressAt(i)));
        api.put(aService({ name: "web", created: "2026-01-01T00:00:00Z" }));
        listen = await freePort();
        await writeFile(join(dir, "kubeconfig"), api.kubeconfig("lb1"));
        await writeFile(join(dir, "portico.yaml"), oneLbConfig(dir, `${POOL[0]}-${POOL[2]}`, listen));
        portico = await startPortico(dir);
        await until("the first haproxy.cfg", async () => (await installedCfg(dir)) !== "", CAP);
        // Planned and written, but no HAProxy runs yet: not ready, and no status for web.
        await until("readyz says no haproxy", async () => (await readyz()).text.includes("no haproxy worker"), CAP);
        beforeHaproxy = { readyz: await readyz(), statusWrites: statusWritesOf("web").length };
        haproxy = await startHaproxyOn(lb, dir, CAP);
        // The port's other owner: a socket bound to every address of the LB namespace and not
        // listening, which the look at listening sockets before a reload cannot see, so only the
        // reload finds it (and is rolled back).
        const bound =
          "import socket,sys,time\ns=socket.socket()\ns.bind(('0.0.0.0',2222))\nprint('ready',flush=True)\ntime.sleep(600)";
        squatter = (
          await start("ip", ["netns", "exec", lb, "python3", "-c", bound], { stdio: "pipe" })
        )._unsafeUnwrap();
        await waitForLine(squatter, "ready");
      } catch (e) {
        throw new Error(`${(e as Error).message}\nportico logs:\n${portico?.logs() ?? ""}`);
      }
    }, 90_000);

    afterAll(async () => {
      await portico?.proc.stop("SIGTERM", 5_000);
      await haproxy?.stop("SIGTERM", 3_000);
      await squatter?.stop("SIGTERM", 2_000);
      for (const p of fakeNodes) await p.stop("SIGTERM", 2_000);
      await api?.stop();
      await netns.destroy();
      if (dir !== "") await rm(dir, { recursive: true, force: true });
    }, 30_000);

    it("0. with no HAProxy running, readyz is 503 and no status is published", () => {
      expect(beforeHaproxy?.readyz).toEqual({ status: 503, text: "no haproxy worker runs on this node\n" });
      expect(beforeHaproxy?.statusWrites).toBe(0);
    });

    it("1. an apply that fails on the holder: the Service is Ready=False ApplyFailed with a Warning Event and no ingress; readyz and the metric say so; the served Service is untouched", async () => {
      onTestFailed(() => say(`portico logs:\n${portico!.logs()}`));
      await until("web ready", () => readyOf(svc("web"))?.status === "True", CAP);
      await until("portico ready", async () => (await readyz()).status === 200, CAP);
      expect(ingressOf(svc("web"))[0]?.ip).toBe(POOL[0]);
      const webVersion = metaOf(svc("web"))["resourceVersion"];

      server().put(
        aService({ name: "ssh", created: "2026-01-02T00:00:00Z", ports: [{ port: 2222, nodePort: NODE_PORT }] }),
      );
      await until("ssh ApplyFailed", () => readyOf(svc("ssh"))?.reason === "ApplyFailed", CAP);
      const ready = readyOf(svc("ssh"))!;
      expect(ready.status).toBe("False");
      expect(ready.message).toContain(`${POOL[1]}:2222`);
      // Every status written for ssh since it came: never Ready=True, never an address.
      const sshStatus = statusWritesOf("ssh").map((w) => w.body as Obj);
      expect(sshStatus.length).toBeGreaterThan(0);
      for (const body of sshStatus) {
        expect(ingressOf(body)).toEqual([]);
        expect(readyOf(body)?.status).toBe("False");
      }
      expect(ingressOf(svc("ssh"))).toEqual([]);
      expect(metaOf(svc("ssh"))["finalizers"]).toEqual([CLEANUP]);
      await until("a Warning Event about ssh", () => eventsAbout("ssh").some((e) => e["type"] === "Warning"), CAP);
      const warning = eventsAbout("ssh").find((e) => e["type"] === "Warning")!;
      expect(warning["reason"]).toBe("SyncLoadBalancerFailed");
      expect(String(warning["message"])).toContain("ApplyFailed");
      expect(eventsAbout("ssh").map((e) => e["reason"])).not.toContain("EnsuredLoadBalancer");

      const r = await readyz();
      expect(r.status).toBe(503);
      expect(r.text).toContain("apply failed");
      expect(await metric("portico_installed_behind_services")).toBe(1);
      // web: still served, its status never written again.
      const w = await trafficFrom(client, POOL[0], 10);
      expect(w.failed, w.errors.join("; ")).toBe(0);
      expect(metaOf(svc("web"))["resourceVersion"]).toBe(webVersion);
      expect(await installedCfg(dir)).not.toContain(":2222");
      say(
        `ssh on a taken port: ${failedApplies()} failed applies, Ready=False ApplyFailed (${ready.message.slice(0, 160)}), readyz 503, web 10/10 connections`,
      );
    }, 90_000);

    it("2. a Service deleted while applies fail keeps its finalizer as long as its frontend serves; it comes off once the frontend is gone", async () => {
      onTestFailed(() => say(`portico logs:\n${portico!.logs()}`));
      const failedBefore = failedApplies();
      server().delete("Service", "default", "web");
      // The plan without web fails too (ssh is still in it): web's frontend stays installed.
      await until("an apply without web failed", () => failedApplies() > failedBefore, CAP);
      await sleep(1_500);
      expect(metaOf(svc("web"))["deletionTimestamp"]).toBeDefined();
      expect(metaOf(svc("web"))["finalizers"]).toEqual([CLEANUP]);
      expect(eventsAbout("web").map((e) => e["reason"])).not.toContain("DeletedLoadBalancer");
      expect(await installedCfg(dir)).toContain(`${POOL[0]}:80`);
      const w = await trafficFrom(client, POOL[0], 4);
      expect(w.failed, w.errors.join("; ")).toBe(0);

      // The port is free again: the retried apply installs ssh and drops web; then web goes.
      await squatter!.stop("SIGTERM", 2_000);
      squatter = undefined;
      const t0 = Date.now();
      // The retry backs off (1 s doubling to 30 s) while applies keep failing: allow one full wait.
      await until("web deleted", () => svc("web") === undefined, 2 * CAP);
      const goneMs = Date.now() - t0;
      expect(await installedCfg(dir)).not.toContain(`${POOL[0]}:80`);
      await until("ssh ready", () => readyOf(svc("ssh"))?.status === "True", CAP);
      // With web gone, ssh (never published) may take either address of the pool.
      sshVip = ingressOf(svc("ssh"))[0]?.ip ?? "";
      expect(POOL).toContain(sshVip);
      await until("ssh serving", async () => (await trafficFrom(client, sshVip, 4, 2222)).ok === 4, CAP);
      await until("portico ready", async () => (await readyz()).status === 200, CAP);
      expect(await metric("portico_installed_behind_services")).toBe(0);
      say(
        `web's finalizer held while its frontend served; port freed -> apply retried, web deleted ${goneMs} ms later, ssh Ready on ${sshVip}:2222`,
      );
    }, 90_000);

    it("3. a typo on a live Service keeps its load balancer: same VIP, same frontends, Ready=False naming the field, a Warning Event", async () => {
      onTestFailed(() => say(`portico logs:\n${portico!.logs()}`));
      await until("portico ready", async () => (await readyz()).status === 200, CAP);
      const cfg = await installedCfg(dir);
      const ingress = ingressOf(svc("ssh"));
      const o = svc("ssh")!;
      (metaOf(o) as { annotations?: Record<string, string> }).annotations = {
        "portico.dev/load-balancer-ips": "198.18.100.300",
      };
      server().put(o);
      await until("ssh kept", () => readyOf(svc("ssh"))?.reason === "LastGoodLoadBalancerKept", CAP);
      const ready = readyOf(svc("ssh"))!;
      expect(ready.status).toBe("False");
      expect(ready.message).toContain("metadata.annotations[portico.dev/load-balancer-ips]");
      expect(ingressOf(svc("ssh"))).toEqual(ingress);
      await until(
        "a SyncLoadBalancerFailed Event naming the field",
        () =>
          eventsAbout("ssh").some(
            (e) => e["reason"] === "SyncLoadBalancerFailed" && String(e["message"]).includes("load-balancer-ips"),
          ),
        CAP,
      );
      // Nothing installed changed, and the Service still serves.
      expect(await installedCfg(dir)).toBe(cfg);
      const r = await trafficFrom(client, sshVip, 6, 2222);
      expect(r.failed, r.errors.join("; ")).toBe(0);

      // Fixed: Ready again, on the same address.
      const fixed = svc("ssh")!;
      delete (metaOf(fixed) as { annotations?: Record<string, string> }).annotations;
      server().put(fixed);
      await until("ssh ready again", () => readyOf(svc("ssh"))?.status === "True", CAP);
      expect(ingressOf(svc("ssh"))).toEqual(ingress);
      say(
        `bad load-balancer-ips on live ssh: kept ${sshVip}:2222 (6/6 connections, haproxy.cfg unchanged), Ready=False ${ready.reason}; fixed -> Ready=True`,
      );
    }, 90_000);

    it("4. a port another program listens on (as sshd on 0.0.0.0:22): that Service gets PortInUse, the reload goes on without it, and every other Service keeps being served", async () => {
      onTestFailed(() => say(`portico logs:\n${portico!.logs()}`));
      const listener =
        "const s=require('net').createServer(c=>c.end());s.listen(2223,'0.0.0.0',()=>console.log('ready'))";
      const sshd = (
        await start("ip", ["netns", "exec", lb, process.execPath, "-e", listener], { stdio: "pipe" })
      )._unsafeUnwrap();
      try {
        await waitForLine(sshd, "ready");
        const failed = failedApplies();
        server().put(
          aService({ name: "sshd", created: "2026-01-04T00:00:00Z", ports: [{ port: 2223, nodePort: NODE_PORT }] }),
        );
        server().put(aService({ name: "late", created: "2026-01-05T00:00:00Z" }));
        await until("sshd PortInUse", () => readyOf(svc("sshd"))?.reason === "PortInUse", CAP);
        const ready = readyOf(svc("sshd"))!;
        expect(ready.status).toBe("False");
        expect(ready.message).toContain("another program listens on *:2223");
        expect(ingressOf(svc("sshd"))).toEqual([]);
        await until("late ready", () => readyOf(svc("late"))?.status === "True", CAP);
        const lateVip = ingressOf(svc("late"))[0]?.ip ?? "";
        await until("late serving", async () => (await trafficFrom(client, lateVip, 4)).ok === 4, CAP);
        const r = await trafficFrom(client, sshVip, 4, 2222);
        expect(r.failed, r.errors.join("; ")).toBe(0);
        // No apply failed: the reload went on without sshd's frontend.
        expect(failedApplies()).toBe(failed);
        expect(await installedCfg(dir)).not.toContain(":2223");
        await until(
          "a Warning Event about sshd",
          () => eventsAbout("sshd").some((e) => e["reason"] === "SyncLoadBalancerFailed"),
          CAP,
        );
        say(
          `sshd on a port another program listens on: Ready=False PortInUse (${ready.message}); late served on ${lateVip}, ssh still serving, 0 failed applies`,
        );
      } finally {
        await sshd.stop("SIGTERM", 2_000);
      }
    }, 90_000);
  },
);
