import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "@portico/host";
import { main, type Io } from "../src/index.js";

const root = resolve(import.meta.dirname, "../../..");
const cluster = join(root, "examples/quickstart/cluster.yaml");
const config = join(root, "examples/quickstart/portico.yaml");

const capture = () => {
  let stdout = "";
  let stderr = "";
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, cwd: root };
  return { io, out: () => stdout, err: () => stderr };
};

const portico = async (...argv: string[]) => {
  const c = capture();
  const code = await main(argv, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
};

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("portico plan", () => {
  it("plans the quickstart and exits 1 because one Service cannot be planned", async () => {
    const r = await portico("plan", "--cluster", cluster, "--config", config);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("Plan: 4 Services (3 ready, 0 partial, 1 failed)");
    expect(r.stdout).toContain("ingress-nginx/ingress-nginx-controller  ready  198.18.100.10  ipMode Proxy, PROXY v2");
    expect(r.stdout).toContain("shop/broken  failed  no address");
    expect(r.stdout).not.toContain("grafana");
  });

  it("prints the same plan as JSON", async () => {
    const r = await portico("plan", "--cluster", cluster, "--config", config, "--output", "json");
    const p = JSON.parse(r.stdout) as { services: { key: string; vips: string[] }[] };
    expect(p.services.map((s) => s.key)).toEqual([
      "ingress-nginx/ingress-nginx-controller",
      "shop/api",
      "shop/broken",
      "shop/web",
    ]);
    expect(p.services[0]?.vips).toEqual(["198.18.100.10"]);
  });

  it("reads a directory of files and multi-document YAML", async () => {
    const sub = join(dir, "cluster-dir");
    await run("mkdir", ["-p", sub]);
    const text = await readFile(cluster, "utf8");
    await writeFile(join(sub, "a.yaml"), text);
    await writeFile(
      join(sub, "b.yml"),
      "---\nkind: Node\napiVersion: v1\nmetadata: {name: extra}\nstatus: {addresses: [{type: InternalIP, address: 198.18.2.99}]}\n---\n",
    );
    await writeFile(join(sub, "ignored.txt"), "not read");
    const r = await portico("plan", "--cluster", sub, "--config", config, "--output", "json");
    expect(r.stdout).toContain("198.18.2.99");
  });

  it.each([
    [
      ["plan", "--cluster", "/nonexistent/cluster.yaml", "--config", config],
      "portico: cannot read /nonexistent/cluster.yaml: no such file or directory\n",
    ],
    [
      ["plan", "--cluster", cluster, "--config", "/nonexistent/portico.yaml"],
      "portico: cannot read /nonexistent/portico.yaml: no such file or directory\n",
    ],
    [
      ["plan", "--cluster", cluster, "--bogus", "x"],
      "portico: plan: unknown option '--bogus'; plan takes --cluster, --config, --output, --against (see portico plan --help)\n",
    ],
    [
      ["plan", "--config", config],
      "portico: plan needs --cluster <file|dir> (what `kubectl get services,nodes,endpointslices -A -o yaml` prints)\n",
    ],
    [
      ["plan", "--cluster", cluster, "--config", config, "--output", "xml"],
      'portico: plan: --output must be text or json, not "xml"\n',
    ],
    [
      ["launch"],
      'portico: unknown command "launch"; commands: plan, render, apply, run, doctor, tune, status (see portico --help)\n',
    ],
    [
      ["plan", "--cluster", cluster, "--config", config, "--against", "/dev/null"],
      "portico: /dev/null: not valid JSON (expected plan.json as render writes it): Unexpected end of JSON input\n",
    ],
  ])("exits 2 with one clear line for %j", async (argv, message) => {
    const r = await portico(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(message);
    expect(r.stdout).toBe("");
  });

  it("names the file, line and column of bad YAML", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "apiVersion: v1\nkind: List\nitems:\n  - kind: Service\n   metadata: [\n");
    const r = await portico("plan", "--cluster", bad, "--config", config);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^portico: ${bad}: not valid YAML at line \\d+, column \\d+: .+\\n$`));
  });

  it("lists every config problem with its field", async () => {
    const badConfig = join(dir, "bad-config.yaml");
    await writeFile(
      badConfig,
      "apiVersion: portico.dev/v1alpha1\nkind: PorticoConfig\npools: []\nlbNodes:\n  - {name: lb1, address: 300.1.1.1, interface: eth0}\n",
    );
    const r = await portico("plan", "--cluster", cluster, "--config", badConfig);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `portico: ${badConfig}: invalid config:\n  pools: must be a non-empty list of address pools\n  lbNodes[0].address:`,
    );
  });
});

describe("portico plan --against", () => {
  it("shows what the next plan changes against what render wrote, grouped by Service", async () => {
    const out = join(dir, "running");
    expect(
      await portico("render", "--cluster", cluster, "--config", config, "--node", "lb1", "--out", out),
    ).toMatchObject({ code: 1 });
    const same = await portico("plan", "--cluster", cluster, "--config", config, "--against", out);
    expect(same.stdout).toContain("none: the running plan is up to date");
    expect(same.stdout).toContain(
      "Summary: 0 added, 0 changed, 0 removed, 4 unchanged; HAProxy: no change; keepalived: no change",
    );

    const text = await readFile(cluster, "utf8");
    // A second pod of shop/api on worker-1 (Local policy): its backend gains a server, through the runtime API.
    const grown = join(dir, "grown.yaml");
    await writeFile(
      grown,
      `${text}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: api-extra, namespace: shop, labels: {kubernetes.io/service-name: api}}\naddressType: IPv4\nendpoints: [{addresses: [198.19.1.99], nodeName: worker-1, conditions: {ready: true}}]\nports: [{name: https, port: 8443, protocol: TCP}]\n`,
    );
    const r = await portico("plan", "--cluster", grown, "--config", config, "--against", out);
    expect(r.stdout).toContain("~ shop/api  198.18.100.12  [runtime]");
    expect(r.stdout).toMatch(/\+ server worker-1 in be_shop_api_8443_v4_[0-9a-f]{16}/);
    // ... and its own healthCheckNodePort check gains worker-1 too.
    expect(r.stdout).toContain("HAProxy: 2 runtime API changes, no reload");
    const json = JSON.parse(
      (await portico("plan", "--cluster", grown, "--config", config, "--against", out, "--output", "json")).stdout,
    ) as { diff: { runtimeOps: number; reload: boolean } };
    expect(json.diff).toMatchObject({ runtimeOps: 2, reload: false });

    // A new node joins every Cluster-policy backend and the shared kube-proxy checks: the same
    // spare slot in each, through the runtime API.
    const node = join(dir, "node.yaml");
    await writeFile(
      node,
      `${text}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: worker-9}\nstatus: {addresses: [{type: InternalIP, address: 198.18.2.99}]}\n`,
    );
    const joined = await portico("plan", "--cluster", node, "--config", config, "--against", out);
    expect(joined.stdout).toContain("~ shop/web  198.18.100.11  [runtime]");
    expect(joined.stdout).toMatch(/\+ kube-proxy check of node worker-9 in chk_kube_proxy_[0-9a-f]{16} {2}\[runtime\]/);
    expect(joined.stdout).toMatch(/HAProxy: [0-9]+ runtime API changes, no reload/);
  });

  it("says where to get a plan.json when there is none", async () => {
    const r = await portico(
      "plan",
      "--cluster",
      cluster,
      "--config",
      config,
      "--against",
      join(dir, "empty-dir-that-does-not-exist"),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^portico: cannot read .*empty-dir-that-does-not-exist: no such file or directory \(render or apply writes plan\.json\)\n$/,
    );
  });

  it("gives advice like a seasoned operator", async () => {
    const r = await portico("plan", "--cluster", cluster, "--config", config);
    expect(r.stdout).toContain("Advice:");
    expect(r.stdout).toContain("shop/web uses externalTrafficPolicy: Cluster");
    expect(r.stdout).toContain(
      "ingress-nginx/ingress-nginx-controller sends PROXY v2: its pods must expect the header",
    );
    // Behind a proxy, Local does not give the pods the client address; only PROXY protocol does.
    expect(r.stdout).not.toContain("keeps the client address");
    expect(r.stdout).toMatch(
      /shop\/\S+: its pods see the LB node's address, not the client's, whatever its externalTrafficPolicy/,
    );
    expect(r.stdout).not.toContain("ingress-nginx/ingress-nginx-controller: its pods see the LB node's address");
  });
});

describe("the deploy example", () => {
  it("ships a config that parses and plans the quickstart", async () => {
    const r = await portico(
      "plan",
      "--cluster",
      cluster,
      "--config",
      join(root, "examples/deploy/portico.yaml"),
      "--output",
      "json",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
  });
});

describe("portico render", () => {
  it("writes haproxy.cfg, keepalived.conf and status.json for the node", async () => {
    const out = join(dir, "lb1");
    const r = await portico("render", "--cluster", cluster, "--config", config, "--node", "lb1", "--out", out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`wrote ${join(out, "haproxy.cfg")}`);
    const haproxy = await readFile(join(out, "haproxy.cfg"), "utf8");
    expect(haproxy).toContain("bind 198.18.100.10:443 transparent");
    // Derived identifiers only: no raw namespace/name, and nothing of the foreign-class Service.
    expect(haproxy).not.toMatch(/shop\/|ingress-nginx\/|grafana/);
    const keepalived = await readFile(join(out, "keepalived.conf"), "utf8");
    expect(keepalived).toContain("198.18.100.10");
    const status = JSON.parse(await readFile(join(out, "status.json"), "utf8")) as {
      node: string;
      services: { name: string; state: string }[];
    };
    expect(status.node).toBe("lb1");
    expect(status.services.find((s) => s.name === "broken")?.state).toBe("failed");
  });

  it("refuses a node that is not in the config", async () => {
    const r = await portico(
      "render",
      "--cluster",
      cluster,
      "--config",
      config,
      "--node",
      "lb9",
      "--out",
      join(dir, "x"),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('portico: --node "lb9" is not an LB node in the config; configured: lb1, lb2\n');
  });
});

describe("the portico binary", () => {
  const bin = join(root, "packages/cli/dist/bin.js");

  it("exits 2 with one line and no stack trace on a missing file", async () => {
    const r = (
      await run(process.execPath, [bin, "plan", "--cluster", "/nonexistent.yaml", "--config", config])
    )._unsafeUnwrap();
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("portico: cannot read /nonexistent.yaml: no such file or directory\n");
  });

  it("prints usage and exits 2 without a command, 0 with --help", async () => {
    const none = (await run(process.execPath, [bin]))._unsafeUnwrap();
    expect(none.code).toBe(2);
    expect(none.stdout).toContain("Usage:");
    const help = (await run(process.execPath, [bin, "render", "--help"]))._unsafeUnwrap();
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("portico render --cluster");
  });
});
