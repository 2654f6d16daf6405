import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { parseShowProc, sendCommand } from "@portico/adapter-haproxy";
import { start, type Started } from "@portico/host";
import { describeWith, NetnsLab, program, root } from "@portico/testkit";
import { main, type Io } from "../src/index.js";

// `portico apply` on a simulated LB node: haproxy runs in a namespace made by the test, with its
// file and sockets in a temp directory named by the config's haproxy: section.

const repo = resolve(import.meta.dirname, "../../..");
const quickstart = join(repo, "examples/quickstart");

const portico = async (...argv: string[]) => {
  let stdout = "";
  let stderr = "";
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, cwd: repo };
  const code = await main(argv, io);
  return { code, stdout, stderr };
};

await describeWith([program("haproxy", ["-v"]), program("ip", ["-V"]), root], "portico apply", () => {
  const lab = new NetnsLab();
  let dir = "";
  let haproxy: Started | undefined;
  let config = "";
  let cluster = "";

  beforeAll(async () => {
    dir = await mkdtemp("/tmp/portico-apply-");
    config = join(dir, "portico.yaml");
    const base = await readFile(join(quickstart, "portico.yaml"), "utf8");
    // keepalived and nftables are applied by their own tests (in namespaces, never on the host).
    await writeFile(
      config,
      `${base}haproxy:\n  configPath: ${dir}/etc/haproxy.cfg\n  statsSocket: ${dir}/admin.sock\n  masterSocket: ${dir}/master.sock\nkeepalived:\n  apply: false\nnftables:\n  apply: false\n`,
    );
    await mkdir(join(dir, "etc"));
    cluster = join(dir, "cluster.yaml");
    await writeFile(cluster, await readFile(join(quickstart, "cluster.yaml"), "utf8"));
  });
  afterAll(async () => {
    await haproxy?.stop("SIGTERM", 3_000);
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the validated file when no haproxy runs yet, then reports it up to date", async () => {
    const first = await portico("apply", "--cluster", cluster, "--config", config, "--node", "lb1");
    // The quickstart holds one Service that cannot be planned: exit 1, the rest is applied.
    expect(first.stderr).toBe("");
    expect(first.code).toBe(1);
    expect(first.stdout).toContain(`haproxy: wrote ${dir}/etc/haproxy.cfg (generation `);
    expect(first.stdout).toContain("nothing was reloaded");
    expect(await readFile(join(dir, "etc/haproxy.cfg"), "utf8")).toContain("frontend fe_");
    const again = await portico("apply", "--cluster", cluster, "--config", config, "--node", "lb1");
    expect(again.stdout).toContain("already up to date");
  });

  it("changes servers through the runtime API and frontends by a confirmed reload", async () => {
    const ns = await lab.add("lb");
    haproxy = (
      await start("ip", [
        "netns",
        "exec",
        ns,
        "haproxy",
        "-W",
        "-S",
        `${dir}/master.sock`,
        "-f",
        `${dir}/etc/haproxy.cfg`,
      ])
    )._unsafeUnwrap();
    for (let i = 0; i < 200; i++) {
      const proc = await sendCommand(`${dir}/master.sock`, { kind: "show-proc" });
      if (proc.isOk() && (parseShowProc(proc.value)?.workers.length ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // An ingress pod leaves worker-2 (Local policy: its backends follow the EndpointSlice): only
    // server slots change.
    const list = parse(await readFile(cluster, "utf8")) as {
      items: { kind: string; metadata: { name: string; namespace?: string }; endpoints?: { nodeName?: string }[] }[];
    };
    const items = list.items.map((o) =>
      o.kind === "EndpointSlice" && o.metadata.namespace === "ingress-nginx"
        ? { ...o, endpoints: (o.endpoints ?? []).filter((e) => e.nodeName !== "worker-2") }
        : o,
    );
    expect(JSON.stringify(items)).not.toBe(JSON.stringify(list.items));
    const withoutWorker2 = stringify({ ...list, items });
    await writeFile(cluster, withoutWorker2);
    const runtime = await portico("apply", "--cluster", cluster, "--config", config, "--node", "lb1");
    expect(runtime.stderr).toBe("");
    expect(runtime.stdout).toMatch(/haproxy: [1-9][0-9]* runtime API commands, no reload/);

    // A node joins: the shared kube-proxy check backend and every Cluster-policy backend fill the
    // same spare slot, through the runtime API too.
    await writeFile(
      cluster,
      `${withoutWorker2}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: worker-9}\nstatus: {addresses: [{type: InternalIP, address: 198.18.2.99}]}\n`,
    );
    const joined = await portico("apply", "--cluster", cluster, "--config", config, "--node", "lb1");
    expect(joined.stderr).toBe("");
    expect(joined.stdout).toMatch(/haproxy: [1-9][0-9]* runtime API commands, no reload/);
    expect(await readFile(join(dir, "etc/haproxy.cfg"), "utf8")).toMatch(
      /server slot\d+ 198\.18\.2\.99:\d+ weight 1 track chk_kube_proxy_[0-9a-f]{16}\/slot\d+ # node_worker_9_/,
    );

    // A Service gone: its frontend goes, which needs a reload.
    await writeFile(
      cluster,
      withoutWorker2.replace("loadBalancerClass: portico.dev/haproxy", "loadBalancerClass: example.com/other"),
    );
    const reload = await portico("apply", "--cluster", cluster, "--config", config, "--node", "lb1");
    expect(reload.stderr).toBe("");
    expect(reload.stdout).toMatch(/haproxy: wrote .* and reloaded; worker [0-9]+ runs generation [0-9a-f]{8}/);
  });

  it("refuses an unknown LB node and a missing --node with exit 2", async () => {
    expect((await portico("apply", "--cluster", cluster, "--config", config, "--node", "lb9")).code).toBe(2);
    const r = await portico("apply", "--cluster", cluster, "--config", config);
    expect(r).toMatchObject({ code: 2, stderr: "portico: apply needs --cluster <file|dir> and --node <lbNode>\n" });
  });
});
