import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseShowProc, sendCommand } from "@portico/adapter-haproxy";
import { aNode, aService } from "@portico/core/testing";
import { run, start, type Started } from "@portico/host";
import {
  describeWith,
  freePort,
  KubeApiServer,
  must,
  NetnsLab,
  program,
  root,
  until,
  type RecordedRequest,
} from "@portico/testkit";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import {
  BIN,
  CLEANUP,
  CLIENT,
  FAKE_NODE,
  ingressOf,
  metaOf,
  regardingOf,
  sayer,
  sleep,
  waitForLine,
  type ClientSummary,
  type Obj,
} from "./e2e/harness.js";

// Two `portico run` processes for two LB nodes, each a real process with its own kubeconfig user
// (so the test API server can tell whose every write is) and its own HAProxy master in its own
// network namespace. One L2 segment (a bridge in its own namespace) joins them all:
//   client 198.18.10.2, lb1 198.18.10.11, lb2 198.18.10.12, node1 198.18.10.21, node2 198.18.10.22
// Both LB namespaces hold the pool's VIPs (198.18.100.10-13) on lo; the client's route to the pool
// picks which LB node's HAProxy it reaches. keepalived is off (`keepalived.apply: false`, as in
// run-e2e.test.ts; VRRP failover has its own tests). Figures are printed; time bounds are caps.

const POOL = ["198.18.100.10", "198.18.100.11", "198.18.100.12", "198.18.100.13"] as const;
const LBS = ["lb1", "lb2"] as const;
type Lb = (typeof LBS)[number];
const lbAddress = (lb: Lb): string => `198.18.10.1${LBS.indexOf(lb) + 1}`;
const NODES = ["node1", "node2"] as const;
const nodeAddress = (n: (typeof NODES)[number]): string => `198.18.10.2${NODES.indexOf(n) + 1}`;
const LEASE = {
  namespace: "portico-system",
  name: "portico-status",
  durationMs: 2_000,
  renewDeadlineMs: 1_500,
  retryPeriodMs: 200,
} as const;
const say = sayer("portico run HA e2e");
/** A safety cap on each wait (a loaded 2-core machine is slow), never a target. */
const CAP = 60_000;

/** One LB node: its `portico run`, its HAProxy master, and what they log. */
interface LbNode {
  readonly name: Lb;
  readonly dir: string;
  readonly ns: string;
  readonly listen: number;
  portico: Started | undefined;
  haproxy: Started | undefined;
  logs: string;
}

/** A write that is about a Service: its status, its finalizers, or an Event regarding it. */
const serviceOf = (w: RecordedRequest): string | undefined =>
  /\/services\/([^/]+)/.exec(w.path)?.[1] ??
  (w.path.endsWith("/events") ? regardingOf(w.body as Obj | undefined) : undefined);
const isLeaseWrite = (w: RecordedRequest): boolean => w.path.includes("/leases");

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), root],
  "portico run on two LB nodes (real processes, real HAProxy, real traffic)",
  () => {
    const netns = new NetnsLab();
    const fakeNodes: Started[] = [];
    const lbs = new Map<Lb, LbNode>();
    let api: KubeApiServer | undefined;
    let dir = "";
    let client = "";

    const server = (): KubeApiServer => api!;
    const lbNode = (name: Lb): LbNode => lbs.get(name)!;
    const logs = (): string => [...lbs.values()].map((n) => `--- ${n.name}\n${n.logs}`).join("\n");
    const holder = (): string =>
      String(((server().get("Lease", LEASE.namespace, LEASE.name)?.["spec"] ?? {}) as Obj)["holderIdentity"] ?? "");
    /** Writes other than the Lease's: status, finalizers, Events. */
    const statusWrites = (): RecordedRequest[] =>
      server()
        .writes()
        .filter((w) => !isLeaseWrite(w));

    /** Up to `count` connections from the client to `vip`:80 through `lb`'s HAProxy. */
    const traffic = async (lb: Lb, vip: string, count: number): Promise<ClientSummary> => {
      await must("ip", ["-n", client, "route", "replace", "198.18.100.0/24", "via", lbAddress(lb)]);
      const out = (
        await run("ip", ["netns", "exec", client, process.execPath, CLIENT, vip, "80", String(count), "10000", "2"], {
          timeoutMs: 25_000,
        })
      )._unsafeUnwrap();
      if (out.code !== 0) throw new Error(`client exited ${out.code}: ${out.stderr}`);
      return JSON.parse(out.stdout) as ClientSummary;
    };
    const bindsOn = async (lb: Lb, vip: string): Promise<boolean> =>
      (await readFile(join(lbNode(lb).dir, "haproxy.cfg"), "utf8").catch(() => "")).includes(`bind ${vip}:80`);
    const vipOf = (name: string): string | undefined => ingressOf(server().get("Service", "default", name))[0]?.ip;

    /** Start `portico run` for `lb` and, once it has written its first haproxy.cfg, that node's HAProxy. */
    const startLb = async (name: Lb): Promise<void> => {
      const n = lbNode(name);
      await writeFile(join(n.dir, "kubeconfig"), server().kubeconfig(name));
      await writeFile(
        join(n.dir, "portico.yaml"),
        [
          "apiVersion: portico.dev/v1alpha1",
          "kind: PorticoConfig",
          `pools: [{name: default, addresses: [${POOL[0]}-${POOL[POOL.length - 1]}]}]`,
          `lbNodes: [${LBS.map((l) => `{name: ${l}, address: ${lbAddress(l)}, interface: eth0}`).join(", ")}]`,
          "healthCheck: {kubeProxyPort: 32100, intervalMs: 200, rise: 1, fall: 2}",
          // Each node's own files and sockets, so that both run on one machine.
          `haproxy: {configPath: ${n.dir}/haproxy.cfg, statsSocket: ${n.dir}/admin.sock, masterSocket: ${n.dir}/master.sock, threads: 1}`,
          `keepalived: {apply: false, configPath: ${n.dir}/keepalived.conf}`,
          `controller: {listen: "127.0.0.1:${n.listen}", coalesce: {quietMs: 20, maxDelayMs: 200}, lease: {durationMs: ${LEASE.durationMs}, renewDeadlineMs: ${LEASE.renewDeadlineMs}, retryPeriodMs: ${LEASE.retryPeriodMs}}}`,
          "",
        ].join("\n"),
      );
      n.portico = (
        await start(
          process.execPath,
          [
            BIN,
            "run",
            "--config",
            join(n.dir, "portico.yaml"),
            "--node",
            name,
            "--kubeconfig",
            join(n.dir, "kubeconfig"),
          ],
          { stdio: "pipe" },
        )
      )._unsafeUnwrap();
      n.portico.stdout!.on("data", (b: Buffer) => (n.logs += b.toString()));
      n.portico.stderr!.on("data", (b: Buffer) => (n.logs += b.toString()));
      // Generous caps: on a loaded machine a Node.js process can take many seconds to start.
      await until(
        `${name}'s first haproxy.cfg`,
        async () => (await readFile(join(n.dir, "haproxy.cfg"), "utf8").catch(() => "")) !== "",
        60_000,
      );
      n.haproxy = (
        await start(
          "ip",
          ["netns", "exec", n.ns, "haproxy", "-W", "-S", join(n.dir, "master.sock"), "-f", join(n.dir, "haproxy.cfg")],
          { stdio: "pipe" },
        )
      )._unsafeUnwrap();
      await until(
        `${name}'s haproxy worker`,
        async () => {
          const r = await sendCommand(join(n.dir, "master.sock"), { kind: "show-proc" });
          return r.isOk() && (parseShowProc(r.value)?.workers.length ?? 0) > 0;
        },
        30_000,
      );
      await until(
        `${name} ready`,
        async () => (await fetch(`http://127.0.0.1:${n.listen}/readyz`).catch(() => undefined))?.status === 200,
        30_000,
      );
    };

    beforeAll(async () => {
      try {
        dir = await mkdtemp("/tmp/portico-ha-e2e-");
        const sw = await netns.add("sw");
        await must("ip", ["-n", sw, "link", "add", "br0", "type", "bridge"]);
        await must("ip", ["-n", sw, "link", "set", "br0", "up"]);
        /** A namespace on the segment: veth `p<i>` in the switch, `eth0` with `address` in it. */
        const attach = async (name: string, address: string, i: number): Promise<string> => {
          const ns = await netns.add(name);
          await must("ip", ["-n", sw, "link", "add", `p${i}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
          await must("ip", ["-n", sw, "link", "set", `p${i}`, "master", "br0", "up"]);
          await must("ip", ["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
          await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
          return ns;
        };
        client = await attach("cl", "198.18.10.2", 0);
        for (const [i, name] of LBS.entries()) {
          const ns = await attach(name, lbAddress(name), i + 1);
          for (const vip of POOL) await must("ip", ["-n", ns, "addr", "add", `${vip}/32`, "dev", "lo"]);
          const lbDir = join(dir, name);
          await mkdir(lbDir);
          lbs.set(name, {
            name,
            dir: lbDir,
            ns,
            listen: await freePort(),
            portico: undefined,
            haproxy: undefined,
            logs: "",
          });
        }
        for (const [i, name] of NODES.entries()) {
          const ns = await attach(name, nodeAddress(name), i + 3);
          const proc = (
            await start("ip", ["netns", "exec", ns, process.execPath, FAKE_NODE, name, "30080", "32100"], {
              stdio: "pipe",
            })
          )._unsafeUnwrap();
          fakeNodes.push(proc);
          await waitForLine(proc, "ready");
        }
        api = await new KubeApiServer().start();
        for (const name of NODES) api.put(aNode(name, nodeAddress(name)));
        // lb1 first, so that it holds the Lease when lb2 starts (the test does not depend on which).
        await startLb("lb1");
        await until("a Lease holder", () => holder() !== "");
        await startLb("lb2");
      } catch (e) {
        throw new Error(`${(e as Error).message}\nportico logs:\n${logs()}`);
      }
    }, 240_000);

    afterAll(async () => {
      for (const n of lbs.values()) await n.portico?.stop("SIGTERM", 5_000);
      for (const n of lbs.values()) await n.haproxy?.stop("SIGTERM", 3_000);
      for (const p of fakeNodes) await p.stop("SIGTERM", 2_000);
      await api?.stop();
      await netns.destroy();
      if (dir !== "") await rm(dir, { recursive: true, force: true });
    }, 40_000);

    it("6. a foreign-class Service, a ClusterIP and a NodePort Service are never written to, while a LoadBalancer Service beside them is served", async () => {
      onTestFailed(() => say(`portico logs:\n${logs()}`));
      const t0 = Date.now();
      const writesBefore = server().writes().length;
      // As another load-balancer controller leaves a Service of its class: its address, and the
      // upstream cleanup finalizer, the same name Portico uses.
      const foreign = aService({
        name: "foreign",
        loadBalancerClass: "example.com/other",
        statusIps: ["198.18.200.7"],
      });
      server().put({ ...foreign, metadata: { ...metaOf(foreign), finalizers: [CLEANUP] } });
      const plain = aService({ name: "plain", type: "ClusterIP" });
      const spec = plain["spec"] as Obj;
      delete spec["externalTrafficPolicy"];
      spec["ports"] = [{ name: "http", port: 80, protocol: "TCP", targetPort: 80 }];
      server().put(plain);
      server().put(
        aService({ name: "nodeport", type: "NodePort", ports: [{ name: "http", port: 80, nodePort: 30081 }] }),
      );
      server().put(aService({ name: "shop" }));
      const servedMs = await until("shop's status", () => vipOf("shop") !== undefined, CAP);
      const vip = vipOf("shop")!;
      await until("shop on both LB nodes", async () => (await bindsOn("lb1", vip)) && (await bindsOn("lb2", vip)), CAP);

      // Later changes to the three: a port and annotations, a label, a new nodePort; the foreign
      // Service is deleted (its finalizer, the other controller's, holds it).
      const modify = (name: string, change: (o: Obj) => void): void => {
        const o = server().get("Service", "default", name)!;
        change(o);
        server().put(o);
      };
      modify("foreign", (o) => {
        metaOf(o)["annotations"] = { "portico.dev/proxy-protocol": "v2" };
        ((o["spec"] as Obj)["ports"] as Obj[]).push({
          name: "https",
          port: 8443,
          protocol: "TCP",
          targetPort: 8443,
          nodePort: 30443,
        });
      });
      modify("plain", (o) => {
        metaOf(o)["labels"] = { tier: "backend" };
      });
      modify("nodeport", (o) => {
        ((o["spec"] as Obj)["ports"] as Obj[])[0]!["nodePort"] = 30082;
      });
      server().delete("Service", "default", "foreign");
      // ...then one to shop, so that a plan is known to have seen the others: once shop's new
      // status is written, every node has planned a snapshot holding all four changes.
      modify("shop", (o) => {
        metaOf(o)["annotations"] = { "portico.dev/proxy-protocol": "v2" };
      });
      await until(
        "shop's status after its change",
        () => ingressOf(server().get("Service", "default", "shop"))[0]?.ipMode === "Proxy",
        CAP,
      );
      await sleep(1_000);

      const untouchable = new Set(["foreign", "plain", "nodeport"]);
      const writes = server().writes().slice(writesBefore);
      expect(
        writes.filter((w) => untouchable.has(serviceOf(w) ?? "")).map((w) => `${w.client} ${w.method} ${w.path}`),
      ).toEqual([]);
      expect(
        server()
          .list("Event")
          .filter((e) => untouchable.has(regardingOf(e) ?? "")),
      ).toEqual([]);
      const foreignNow = server().get("Service", "default", "foreign");
      expect(metaOf(foreignNow)).toMatchObject({ finalizers: [CLEANUP], deletionTimestamp: expect.any(String) });
      expect(ingressOf(foreignNow)).toEqual([{ ip: "198.18.200.7", ipMode: "VIP" }]);
      for (const name of ["plain", "nodeport"]) {
        expect(metaOf(server().get("Service", "default", name))["finalizers"]).toBeUndefined();
        expect(ingressOf(server().get("Service", "default", name))).toEqual([]);
      }
      // Neither node serves anything of theirs.
      for (const lb of LBS)
        expect(await readFile(join(lbNode(lb).dir, "haproxy.cfg"), "utf8")).not.toMatch(/:8443\b|198\.18\.200\.7/);
      // ...while shop is served through both nodes' HAProxy, and its writes came from one node.
      const shopWriters = [...new Set(writes.filter((w) => serviceOf(w) === "shop").map((w) => w.client))];
      expect(shopWriters).toEqual([holder()]);
      const viaLb1 = await traffic("lb1", vip, 20);
      const viaLb2 = await traffic("lb2", vip, 20);
      expect([viaLb1.failed, viaLb2.failed], [...viaLb1.errors, ...viaLb2.errors].join("; ")).toEqual([0, 0]);
      expect(viaLb1.ok + viaLb2.ok).toBe(40);
      say(
        `foreign-class (being deleted), ClusterIP and NodePort Services: 0 writes and 0 Events over ${Date.now() - t0} ms including later changes to each; ` +
          `shop beside them: status in ${servedMs} ms, ${writes.filter((w) => serviceOf(w) === "shop").length} writes all by ${shopWriters.join(",")}, 20 + 20 connections through lb1 and lb2 ${JSON.stringify([viaLb1.byNode, viaLb2.byNode])}`,
      );
    }, 180_000);

    it("4. only the Lease holder writes status; kill -9 it and the other LB node takes over writes within the lease timings, never both at once", async () => {
      onTestFailed(() => say(`portico logs:\n${logs()}`));
      const leader = holder() as Lb;
      expect(LBS).toContain(leader);
      const follower = LBS.find((l) => l !== leader)!;

      server().put(aService({ name: "web", created: "2026-03-01T00:00:00Z" }));
      await until(
        "web's status, finalizer and Events",
        () => {
          const web = server().get("Service", "default", "web");
          return (
            ingressOf(web).length > 0 &&
            ((metaOf(web)["finalizers"] as unknown[] | undefined) ?? []).length > 0 &&
            server()
              .list("Event")
              .some((e) => regardingOf(e) === "web" && e["reason"] === "EnsuredLoadBalancer")
          );
        },
        CAP,
      );
      const webVip = vipOf("web")!;
      await until(
        "web on both LB nodes",
        async () => (await bindsOn("lb1", webVip)) && (await bindsOn("lb2", webVip)),
        CAP,
      );
      // Every write so far, Lease renewals included, is the holder's: the other node only reads.
      const writers = [
        ...new Set(
          server()
            .writes()
            .map((w) => w.client),
        ),
      ];
      expect(writers).toEqual([leader]);
      expect(statusWrites().length).toBeGreaterThan(0);
      for (const lb of LBS) expect((await traffic(lb, webVip, 10)).ok).toBe(10);

      // SIGKILL: the leader cannot release the Lease; the other node must wait for it to expire.
      const killedAt = Date.now();
      const exit = await lbNode(leader).portico!.stop("SIGKILL");
      expect(exit.signal).toBe("SIGKILL");
      // A change made after the kill: a new Service, applied at once by the surviving node, whose
      // status only a leader may write.
      server().put(aService({ name: "after", created: "2026-04-01T00:00:00Z" }));
      await until("after's status written by the new leader", () => vipOf("after") !== undefined, CAP);
      const afterVip = vipOf("after")!;
      await until(
        "after's EnsuredLoadBalancer Event",
        () =>
          server()
            .list("Event")
            .some((e) => regardingOf(e) === "after" && e["reason"] === "EnsuredLoadBalancer"),
        CAP,
      );
      // Long enough for a second writer, were there one, to show.
      await sleep(LEASE.durationMs);

      const writes = server().writes();
      const acquired = writes.find((w) => isLeaseWrite(w) && w.client === follower && w.status < 300)!;
      const firstStatus = writes.find((w) => !isLeaseWrite(w) && w.client === follower)!;
      // A renewal sent just before the kill may be read after it: the last one recorded counts.
      const lastRenewal = writes.filter((w) => isLeaseWrite(w) && w.client === leader).at(-1)!;
      const takeoverMs = acquired.at - killedAt;
      const firstWriteMs = firstStatus.at - killedAt;
      expect(holder()).toBe(follower);
      // Within the lease timings: the Lease expires leaseDuration after the last renewal seen, and
      // the follower looks every retry period (plus a generous cap for a loaded machine).
      expect(takeoverMs).toBeLessThanOrEqual(LEASE.durationMs + LEASE.retryPeriodMs + 10_000);
      // Never two leaders: the new one acquired only once the old one's last renewal had expired.
      const sinceLastRenewal = acquired.at - lastRenewal.at;
      expect(sinceLastRenewal).toBeGreaterThanOrEqual(LEASE.durationMs);
      // No double writes: nothing of the old leader's landed once the new one held the Lease; every
      // status, finalizer and Event write is one node's run followed by the other's, never interleaved.
      expect(writes.filter((w) => w.client === leader && w.at >= acquired.at)).toEqual([]);
      const order = statusWrites()
        .map((w) => w.client)
        .filter((c, i, all) => i === 0 || all[i - 1] !== c);
      expect(order).toEqual([leader, follower]);
      expect(
        statusWrites()
          .filter((w) => w.client === leader)
          .every((w) => w.at < firstStatus.at),
      ).toBe(true);
      // ...and no Event twice: each Service's reasons were recorded once, by one node.
      for (const name of ["web", "after"]) {
        const reasons = server()
          .list("Event")
          .filter((e) => regardingOf(e) === name)
          .map((e) => e["reason"]);
        expect(reasons.sort()).toEqual(["EnsuredLoadBalancer", "EnsuringLoadBalancer"]);
      }

      // The change converged: status, finalizer and Events by the new leader, served by its HAProxy;
      // the killed node's HAProxy still serves what it had (stopping portico never touches traffic).
      const afterWrites = writes.filter((w) => serviceOf(w) === "after");
      expect([...new Set(afterWrites.map((w) => w.client))]).toEqual([follower]);
      expect(metaOf(server().get("Service", "default", "after"))["finalizers"]).toEqual([CLEANUP]);
      await until("after on the new leader's HAProxy", () => bindsOn(follower, afterVip), CAP);
      const viaFollower = await traffic(follower, afterVip, 20);
      const viaOld = await traffic(leader, webVip, 20);
      expect([viaFollower.failed, viaOld.failed], [...viaFollower.errors, ...viaOld.errors].join("; ")).toEqual([0, 0]);
      say(
        `leader ${leader} killed with SIGKILL: ${follower} acquired the Lease ${takeoverMs} ms later (${sinceLastRenewal} ms after ${leader}'s last renewal; lease ${LEASE.durationMs} ms, retry ${LEASE.retryPeriodMs} ms) ` +
          `and wrote the status of a Service created after the kill ${firstWriteMs} ms after it; writes before the kill: ${writers.join(",")} only; ` +
          `after the kill: ${afterWrites.length} writes for it, all by ${follower}; 20 connections to it through ${follower} ${JSON.stringify(viaFollower.byNode)}, 20 to web through ${leader}'s HAProxy ${JSON.stringify(viaOld.byNode)}`,
      );
    }, 180_000);
  },
);
