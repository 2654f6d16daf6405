import { aService } from "@portico/core/testing";
import { start, type Started } from "@portico/host";
import { describeWith, must, NODE_PORT, program, root, until, waitForLine } from "@portico/testkit";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { CLEANUP, ingressOf, metaOf, regardingOf, sayer, sleep, type Obj } from "./e2e/harness.js";
import { installedCfg, loopFrom, trafficFrom } from "./e2e/one-lb.js";
import { OneLbRun } from "./e2e/one-lb-run.js";

// Status says what the LB node installed, not what it planned. In e2e/one-lb.ts's lab (one LB node,
// real HAProxy, two fake nodes) haproxy.cfg is made immutable (chattr +i, as a read-only or full
// disk would refuse it) while a Service comes: every apply fails, and HAProxy keeps running what
// it ran before. Then programs hold ports of the LB namespace: one listens (as sshd does on
// 0.0.0.0:22), one has a socket bound and not listening, which no look at listeners can see.
//   web (port 80) is served before; ssh (port 2222) is the Service whose apply fails.

const POOL = ["198.18.100.10", "198.18.100.11", "198.18.100.12", "198.18.100.13", "198.18.100.14"] as const;
const NODES = ["node1", "node2"] as const;
const say = sayer("portico run installed e2e");
/** A safety cap on each wait (a loaded 2-core machine is slow), never a target. */
const CAP = 30_000;

type Condition = { type: string; status: string; reason: string; message: string };
const conditionsOf = (o: Obj | undefined): Condition[] =>
  (((o?.["status"] ?? {}) as Obj)["conditions"] ?? []) as Condition[];
const readyOf = (o: Obj | undefined): Condition | undefined =>
  conditionsOf(o).find((c) => c.type === "portico.dev/LoadBalancerReady");

/** A program in the LB namespace holding `port` on every address: `listen`ing or only bound. */
const holdPort = async (lb: string, port: number, listen: boolean): Promise<Started> => {
  const code = `import socket,time\ns=socket.socket()\ns.bind(('0.0.0.0',${port}))\n${listen ? "s.listen()\n" : ""}print('ready',flush=True)\ntime.sleep(600)`;
  const p = (await start("ip", ["netns", "exec", lb, "python3", "-c", code], { stdio: "pipe" }))._unsafeUnwrap();
  await waitForLine(p, "ready");
  return p;
};

await describeWith(
  [
    program("haproxy", ["-v"]),
    program("ip", ["-V"]),
    program("python3", ["--version"]),
    program("chattr", ["-V"]),
    root,
  ],
  "portico run publishes what its LB node installed (real HAProxy, a file that cannot be written, ports already taken)",
  () => {
    const lab = new OneLbRun({ prefix: "portico-installed-e2e-", pool: POOL, nodes: NODES, capMs: CAP });
    let sshVip = "";
    let beforeHaproxy: { readyz: { status: number; text: string }; statusWrites: number } | undefined;

    const server = () => lab.server();
    const cfgPath = (): string => `${lab.dir}/haproxy.cfg`;
    const svc = (name: string): Obj | undefined => server().get("Service", "default", name);
    const readyz = async (): Promise<{ status: number; text: string }> => {
      const r = await fetch(`http://127.0.0.1:${lab.listen}/readyz`);
      return { status: r.status, text: await r.text() };
    };
    const metric = async (name: string): Promise<number | undefined> => {
      const text = await (await fetch(`http://127.0.0.1:${lab.listen}/metrics`)).text();
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
      lab
        .logs()
        .split("\n")
        .filter((l) => l.includes('"msg":"apply failed')).length;
    const versionOf = (name: string): unknown => metaOf(svc(name))["resourceVersion"];
    /** Wait for a SyncLoadBalancerFailed Event about Service `name` whose message says `saying`. */
    const syncFailedEvent = (name: string, saying: string): Promise<number> =>
      until(
        `a SyncLoadBalancerFailed Event about ${name} saying ${saying}`,
        () =>
          eventsAbout(name).some(
            (e) => e["reason"] === "SyncLoadBalancerFailed" && String(e["message"]).includes(saying),
          ),
        CAP,
      );

    beforeAll(async () => {
      await lab.start((api) => api.put(aService({ name: "web", created: "2026-01-01T00:00:00Z" })), false);
      // Planned and written, but no HAProxy runs yet: not ready, and no status for web.
      await until("readyz says no haproxy", async () => (await readyz()).text.includes("no haproxy worker"), CAP);
      beforeHaproxy = { readyz: await readyz(), statusWrites: statusWritesOf("web").length };
      await lab.startHaproxy();
    }, 90_000);

    afterAll(async () => {
      // An immutable file left by a failed test would outlive the lab's temp dir.
      if (lab.dir !== "") await must("chattr", ["-i", cfgPath()]).catch(() => undefined);
      await lab.stop();
    }, 30_000);

    it("0. with no HAProxy running, readyz is 503 and no status is published", () => {
      expect(beforeHaproxy?.readyz).toEqual({ status: 503, text: "no haproxy worker runs on this node\n" });
      expect(beforeHaproxy?.statusWrites).toBe(0);
    });

    it("1. an apply that fails on the holder: the Service is Ready=False ApplyFailed with a Warning Event and no ingress; readyz and the metric say so; the served Service is untouched", async () => {
      onTestFailed(() => say(`portico logs:\n${lab.logs()}`));
      await until("web ready", () => readyOf(svc("web"))?.status === "True", CAP);
      await until("portico ready", async () => (await readyz()).status === 200, CAP);
      expect(ingressOf(svc("web"))[0]?.ip).toBe(POOL[0]);
      const webVersion = metaOf(svc("web"))["resourceVersion"];

      // The file cannot be replaced (rename over an immutable file is refused): every apply fails.
      await must("chattr", ["+i", cfgPath()]);
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
      const w = await trafficFrom(lab.client, POOL[0], 10);
      expect(w.failed, w.errors.join("; ")).toBe(0);
      expect(metaOf(svc("web"))["resourceVersion"]).toBe(webVersion);
      expect(await installedCfg(lab.dir)).not.toContain(":2222");
      say(
        `ssh while haproxy.cfg cannot be written: ${failedApplies()} failed applies, Ready=False ApplyFailed (${ready.message.slice(0, 160)}), readyz 503, web 10/10 connections`,
      );
    }, 90_000);

    it("2. a Service deleted while applies fail keeps its finalizer as long as its frontend serves; it comes off once the frontend is gone", async () => {
      onTestFailed(() => say(`portico logs:\n${lab.logs()}`));
      const failedBefore = failedApplies();
      server().delete("Service", "default", "web");
      // The plan without web fails too (ssh is still in it): web's frontend stays installed.
      await until("an apply without web failed", () => failedApplies() > failedBefore, CAP);
      await sleep(1_500);
      expect(metaOf(svc("web"))["deletionTimestamp"]).toBeDefined();
      expect(metaOf(svc("web"))["finalizers"]).toEqual([CLEANUP]);
      expect(eventsAbout("web").map((e) => e["reason"])).not.toContain("DeletedLoadBalancer");
      expect(await installedCfg(lab.dir)).toContain(`${POOL[0]}:80`);
      const w = await trafficFrom(lab.client, POOL[0], 4);
      expect(w.failed, w.errors.join("; ")).toBe(0);

      // The file can be written again: the retried apply installs ssh and drops web; then web goes.
      await must("chattr", ["-i", cfgPath()]);
      const t0 = Date.now();
      // The retry backs off (1 s doubling to 30 s) while applies keep failing: allow one full wait.
      await until("web deleted", () => svc("web") === undefined, 2 * CAP);
      const goneMs = Date.now() - t0;
      expect(await installedCfg(lab.dir)).not.toContain(`${POOL[0]}:80`);
      await until("ssh ready", () => readyOf(svc("ssh"))?.status === "True", CAP);
      // With web gone, ssh (never published) may take either address of the pool.
      sshVip = ingressOf(svc("ssh"))[0]?.ip ?? "";
      expect(POOL).toContain(sshVip);
      await until("ssh serving", async () => (await trafficFrom(lab.client, sshVip, 4, 2222)).ok === 4, CAP);
      await until("portico ready", async () => (await readyz()).status === 200, CAP);
      expect(await metric("portico_installed_behind_services")).toBe(0);
      say(
        `web's finalizer held while its frontend served; file writable -> apply retried, web deleted ${goneMs} ms later, ssh Ready on ${sshVip}:2222`,
      );
    }, 90_000);

    it("3. a typo on a live Service keeps its load balancer: same VIP, same frontends, Ready=False naming the field, a Warning Event", async () => {
      onTestFailed(() => say(`portico logs:\n${lab.logs()}`));
      await until("portico ready", async () => (await readyz()).status === 200, CAP);
      const cfg = await installedCfg(lab.dir);
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
      await syncFailedEvent("ssh", "load-balancer-ips");
      // Nothing installed changed, and the Service still serves.
      expect(await installedCfg(lab.dir)).toBe(cfg);
      const r = await trafficFrom(lab.client, sshVip, 6, 2222);
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

    it("4. a port another program listens on (as sshd on 0.0.0.0:22): that Service gets PortInUse, the reload goes on without it, and every other Service keeps being served; once the program stops, it is served", async () => {
      onTestFailed(() => say(`portico logs:\n${lab.logs()}`));
      let sshd: Started | undefined = await holdPort(lab.lb, 2223, true);
      try {
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
        await until("late serving", async () => (await trafficFrom(lab.client, lateVip, 4)).ok === 4, CAP);
        const r = await trafficFrom(lab.client, sshVip, 4, 2222);
        expect(r.failed, r.errors.join("; ")).toBe(0);
        // No apply failed: the reload went on without sshd's frontend.
        expect(failedApplies()).toBe(failed);
        expect(await installedCfg(lab.dir)).not.toContain(":2223");
        await until(
          "a Warning Event about sshd",
          () => eventsAbout("sshd").some((e) => e["reason"] === "SyncLoadBalancerFailed"),
          CAP,
        );
        // The port is looked at again (1 s doubling to 30 s): once the program is gone, sshd is served.
        await sshd.stop("SIGTERM", 2_000);
        sshd = undefined;
        await until("sshd ready", () => readyOf(svc("sshd"))?.status === "True", 2 * CAP);
        const sshdVip = ingressOf(svc("sshd"))[0]?.ip ?? "";
        await until("sshd serving", async () => (await trafficFrom(lab.client, sshdVip, 4, 2223)).ok === 4, CAP);
        say(
          `sshd on a port another program listens on: Ready=False PortInUse (${ready.message}); late served on ${lateVip}, ssh still serving, 0 failed applies; listener gone -> sshd served on ${sshdVip}:2223`,
        );
      } finally {
        await sshd?.stop("SIGTERM", 2_000);
      }
    }, 120_000);

    it("5. a socket another program bound and does not listen on (no look at listeners sees it): HAProxy's own bind probe finds it, that Service alone gets PortInUse and an Event, every other Service is served and nothing else changes; once the socket goes, it is served", async () => {
      onTestFailed(() => say(`portico logs:\n${lab.logs()}`));
      await until("portico ready", async () => (await readyz()).status === 200, CAP);
      let holder: Started | undefined = await holdPort(lab.lb, 2224, false);
      try {
        const lateVip = ingressOf(svc("late"))[0]?.ip ?? "";
        const loop = await loopFrom(lab.client, lateVip, 60_000);
        const failed = failedApplies();
        const versions = ["ssh", "late", "sshd"].map(versionOf);
        const cfgBefore = await installedCfg(lab.dir);
        server().put(
          aService({ name: "bound", created: "2026-01-06T00:00:00Z", ports: [{ port: 2224, nodePort: NODE_PORT }] }),
        );
        server().put(aService({ name: "later", created: "2026-01-07T00:00:00Z" }));
        await until("bound PortInUse", () => readyOf(svc("bound"))?.reason === "PortInUse", CAP);
        const ready = readyOf(svc("bound"))!;
        expect(ready.status).toBe("False");
        expect(ready.message).toMatch(/198\.18\.100\.\d+:2224 \(HAProxy cannot bind it: Address already in use\)/);
        expect(ingressOf(svc("bound"))).toEqual([]);
        await syncFailedEvent("bound", "PortInUse");
        // The reload went on without bound's frontend: later is served, and no apply failed.
        await until("later ready", () => readyOf(svc("later"))?.status === "True", CAP);
        const laterVip = ingressOf(svc("later"))[0]?.ip ?? "";
        await until("later serving", async () => (await trafficFrom(lab.client, laterVip, 4)).ok === 4, CAP);
        expect(failedApplies()).toBe(failed);
        const cfg = await installedCfg(lab.dir);
        expect(cfg).not.toContain(":2224");
        // Nothing else changed: the other Services' objects, and every frontend they had.
        expect(["ssh", "late", "sshd"].map(versionOf)).toEqual(versions);
        const frontends = (text: string) => text.split("\n").filter((l) => l.startsWith("    bind "));
        expect(frontends(cfg)).toEqual(expect.arrayContaining(frontends(cfgBefore)));
        expect(frontends(cfg)).toHaveLength(frontends(cfgBefore).length + 1);
        const ssh = await trafficFrom(lab.client, sshVip, 6, 2222);
        const summary = await loop.stop();
        expect(summary.failed, summary.errors.join("; ")).toBe(0);
        expect(summary.ok).toBeGreaterThan(10);
        expect(ssh.failed, ssh.errors.join("; ")).toBe(0);

        // The socket goes: bound is served on its port at the next look.
        await holder.stop("SIGTERM", 2_000);
        holder = undefined;
        await until("bound ready", () => readyOf(svc("bound"))?.status === "True", 2 * CAP);
        const boundVip = ingressOf(svc("bound"))[0]?.ip ?? "";
        await until("bound serving", async () => (await trafficFrom(lab.client, boundVip, 4, 2224)).ok === 4, CAP);
        expect(failedApplies()).toBe(failed);
        say(
          `bound on a port another program bound (not listening): Ready=False PortInUse (${ready.message}); late answered ${summary.ok} connections meanwhile, 0 failed; ssh 6/6; later served on ${laterVip}; 0 failed applies; socket gone -> bound served on ${boundVip}:2224`,
        );
      } finally {
        await holder?.stop("SIGTERM", 2_000);
      }
    }, 150_000);
  },
);
