// What `npm run package` writes under dist/, checked as an LB node would see it: the .deb unpacked
// into a scratch root and its portico run with an empty environment (no Node anywhere on a PATH)
// must plan and render byte for byte what the workspace CLI does; the OCI image likewise, from
// its own root filesystem. Under CI=true the artifacts must exist (.ci/run builds them first).
import { access, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_DEFAULTS } from "@portico/core";
import { run } from "@portico/host";
import { describeWith, program, root as asRoot, type Requirement } from "@portico/testkit";
import { parse, parseAllDocuments } from "yaml";

const repo = resolve(import.meta.dirname, "..");
const version = (JSON.parse(await readFile(join(repo, "packages/cli/package.json"), "utf8")) as { version: string })
  .version;
const deb = join(repo, "dist", `portico_${version}_amd64.deb`);
const layout = join(repo, "dist", "oci");
const quickstart = join(repo, "examples/quickstart");
const workspaceCli = join(repo, "packages/cli/bin/portico.js");

const built = (file: string): Requirement => ({
  name: file,
  check: async () =>
    (await access(file).then(
      () => true,
      () => false,
    ))
      ? undefined
      : `${file} is missing (npm run package)`,
});

const must = async (
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
) => {
  const r = (await run(command, args, { timeoutMs: 120_000, ...options }))._unsafeUnwrap();
  return r;
};

/** A line of a maintainer script that runs a service manager, and the verb it asks for. */
const MANAGERS = ["systemctl", "deb-systemd-invoke", "deb-systemd-helper", "invoke-rc\\.d", "service"];
const AFTER = "(?:.*?(?:&&|\\|\\||;|then)\\s+)?"; // at the start of the line, or after && || ; then
const SERVICE_COMMAND = new RegExp(`^\\s*${AFTER}(?:${MANAGERS.join("|")})\\s+(?:--\\S+\\s+)*(\\S+)`);

/** The workspace CLI, run by this Node: the reference every packaged binary must match. */
const workspace = (args: readonly string[]) => must(process.execPath, [workspaceCli, ...args], { cwd: repo });

/** Every file under `dir`, relative, with its bytes. */
const tree = async (dir: string): Promise<Record<string, string>> => {
  const names = (await readdir(dir, { recursive: true })).sort();
  const files: Record<string, string> = {};
  for (const n of names) if ((await stat(join(dir, n))).isFile()) files[n] = await readFile(join(dir, n), "utf8");
  return files;
};

let scratch = "";
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "portico-package-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const head = (await run("git", ["rev-parse", "HEAD"], { cwd: repo })).map((r) => r.stdout.trim()).unwrapOr("unknown");
// Built from this commit; "-dirty" when the tree had uncommitted changes (never in CI's clean clone).
const stamp = new RegExp(
  `^portico ${version.replaceAll(".", "\\.")} \\(commit ${head}(-dirty)?, single executable linux-x64\\)\n$`,
);

await describeWith([built(deb), program("dpkg-deb", ["--version"])], "the Debian package", () => {
  let fs = "";
  let bin = "";
  const packaged = (args: readonly string[]) => must(bin, args, { env: {}, cwd: repo });

  beforeAll(async () => {
    fs = join(scratch, "deb");
    await must("dpkg-deb", ["-x", deb, fs]);
    bin = join(fs, "usr/bin/portico");
  });

  it("is under 40 MB", async () => {
    expect((await stat(deb)).size).toBeLessThan(40_000_000);
  });

  it("says which version and commit it was built from, with no environment at all", async () => {
    const r = await packaged(["--version"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(stamp);
  });

  it("needs only the C and C++ runtime libraries, no Node", async () => {
    const libs = (await must("ldd", [bin])).stdout
      .split("\n")
      .map((l) => /^\s*(\S+)/.exec(l)?.[1])
      .filter((l) => l !== undefined);
    const allowed = /^(linux-vdso\.so\.1|\/lib64\/ld-linux-x86-64\.so\.2|lib(c|m|dl|pthread|stdc\+\+|gcc_s)\.so\.\d+)$/;
    expect(libs.filter((l) => !allowed.test(l))).toEqual([]);
  });

  it("plans the quickstart byte for byte like the workspace CLI, in text and JSON", async () => {
    for (const output of ["text", "json"]) {
      const args = [
        "plan",
        "--cluster",
        join(quickstart, "cluster.yaml"),
        "--config",
        join(quickstart, "portico.yaml"),
        "--output",
        output,
      ];
      const [mine, theirs] = [await packaged(args), await workspace(args)];
      expect(mine.code).toBe(1);
      expect(theirs.code).toBe(1);
      expect(mine.stdout.length).toBeGreaterThan(500);
      expect(mine.stdout).toBe(theirs.stdout);
      expect(mine.stderr).toBe(theirs.stderr);
    }
  });

  it("renders the same files as the workspace CLI", async () => {
    const base = [
      "render",
      "--cluster",
      join(quickstart, "cluster.yaml"),
      "--config",
      join(quickstart, "portico.yaml"),
      "--node",
      "lb1",
      "--out",
    ];
    await packaged([...base, join(scratch, "render-deb")]);
    await workspace([...base, join(scratch, "render-ws")]);
    const mine = await tree(join(scratch, "render-deb"));
    expect(Object.keys(mine)).toEqual(
      expect.arrayContaining(["haproxy.cfg", "keepalived.conf", "plan.json", "status.json"]),
    );
    expect(mine).toEqual(await tree(join(scratch, "render-ws")));
  });

  it("answers run --help and runs completion without Node", async () => {
    expect((await packaged(["run", "--help"])).stdout).toMatch(/^Usage: portico run /);
    expect((await packaged(["completion", "bash"])).stdout).toContain("complete -F _portico portico");
  });

  it("ships the units, the example config as its one conffile, the man page and completions", async () => {
    const control = (await must("dpkg-deb", ["--field", deb])).stdout;
    expect(control).toMatch(/^Depends: .*\blibc6 \(>= [\d.]+\).*, haproxy \(>= 2\.4\), keepalived \(>= 2\.0\)/m);
    expect(control).not.toMatch(/^Recommends:/m);
    expect((await must("dpkg-deb", ["--ctrl-tarfile", deb])).code).toBe(0);
    const conffiles = (await must("dpkg-deb", ["--info", deb, "conffiles"])).stdout;
    expect(conffiles).toBe("/etc/portico/portico.yaml\n");
    for (const f of [
      "lib/systemd/system/portico.service",
      "lib/systemd/system/portico-tune.service",
      "usr/share/man/man1/portico.1.gz",
      "usr/share/bash-completion/completions/portico",
      "usr/share/zsh/vendor-completions/_portico",
      "usr/share/doc/portico/copyright",
    ]) {
      expect((await stat(join(fs, f))).isFile(), f).toBe(true);
    }
    expect((await stat(bin)).mode & 0o777).toBe(0o755);
    // keepalived runs it as root under enable_script_security: root's, and writable by root only.
    expect((await stat(join(fs, "usr/lib/portico/haproxy-check"))).mode & 0o777).toBe(0o755);
  });

  it("maintainer scripts never start, restart or enable anything", async () => {
    const dir = join(scratch, "control");
    await must("dpkg-deb", ["--control", deb, dir]);
    const verbs = new Set<string>();
    for (const script of ["postinst", "prerm", "postrm"]) {
      const lines = (await readFile(join(dir, script), "utf8")).split("\n").filter((l) => !l.trim().startsWith("#"));
      for (const line of lines) {
        const m = SERVICE_COMMAND.exec(line);
        if (m !== null) verbs.add(`${script} ${m[1]}`);
      }
    }
    expect([...verbs].sort()).toEqual(["postinst daemon-reload", "postrm daemon-reload", "prerm stop"]);
    // The one stop is on removal only (the binary is going), never on upgrade.
    expect(await readFile(join(dir, "prerm"), "utf8")).toMatch(
      /if \[ "\$1" = "remove" \][^\n]*\n(?:\s*#[^\n]*\n)*\s*deb-systemd-invoke stop portico\.service/,
    );
  });

  it("the example config parses, and doctor fails it until its first line is deleted", async () => {
    const config = join(fs, "etc/portico/portico.yaml");
    const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
    const before = await must(bin, ["doctor", "--config", config, "--node", "lb1"], { env });
    expect(before.stdout).toMatch(/^FAIL {2}config edited: .* is still the packaged example/m);
    expect(before.code).toBe(3);
    const text = await readFile(config, "utf8");
    await writeFile(config, text.slice(text.indexOf("\n") + 1));
    const after = await must(bin, ["doctor", "--config", config, "--node", "lb1"], { env });
    expect(after.stdout).toMatch(/^OK {4}config edited: /m);
  });

  it("the unit is hardened and may write exactly where the config's default paths are", async () => {
    const unit = await readFile(join(fs, "lib/systemd/system/portico.service"), "utf8");
    const setting = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1]!.trim());
    expect(setting("ExecStart")).toEqual([
      "/usr/bin/portico run --config /etc/portico/portico.yaml --node %l --kubeconfig /etc/portico/kubeconfig",
    ]);
    for (const [k, v] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["PrivateTmp", "yes"],
      ["ProtectHome", "yes"],
      ["KillMode", "process"],
    ]) {
      expect(setting(k!), k).toEqual([v]);
    }
    expect(setting("RestrictAddressFamilies")[0]!.split(" ")).toEqual(
      expect.arrayContaining(["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"]),
    );
    expect(setting("CapabilityBoundingSet")[0]!.split(" ")).not.toContain("CAP_SYS_ADMIN");
    // keepalived runs in a unit of its own, so Portico keeps only what nftables needs.
    expect(setting("CapabilityBoundingSet")).toEqual(["CAP_NET_ADMIN"]);
    expect(setting("RestrictAddressFamilies")[0]!.split(" ")).not.toContain("AF_PACKET");
    expect([setting("ProtectKernelTunables"), setting("PrivateDevices")]).toEqual([["yes"], ["yes"]]);
    const writable = setting("ReadWritePaths")[0]!.split(" ");
    const { haproxy, keepalived, nftables } = CONFIG_DEFAULTS;
    const paths = [
      haproxy.configPath,
      haproxy.statsSocket,
      keepalived.configPath,
      keepalived.pidFile,
      nftables.configPath,
    ];
    for (const path of paths.map((p) => dirname(p as string))) {
      expect(
        writable.some((w) => path === w || path.startsWith(`${w}/`)),
        path,
      ).toBe(true);
    }
  });
});

/** The .deb unpacked afresh into the scratch directory; returns its root. */
const unpacked = async (name: string): Promise<string> => {
  const fs = join(scratch, name);
  await must("dpkg-deb", ["-x", deb, fs]);
  return fs;
};

await describeWith([built(deb), program("systemd-analyze", ["--version"])], "systemd-analyze verify", () => {
  it("finds nothing to say about either unit", async () => {
    const fs = await unpacked("deb-units");
    const dir = join(scratch, "units");
    await mkdir(dir, { recursive: true });
    // verify wants ExecStart to exist where it says; point it at the unpacked binary.
    const units = ["portico.service", "portico-tune.service"];
    for (const u of units) {
      const text = await readFile(join(fs, "lib/systemd/system", u), "utf8");
      await writeFile(join(dir, u), text.replaceAll("/usr/bin/portico", join(fs, "usr/bin/portico")));
    }
    const r = await must("systemd-analyze", ["verify", "--man=no", ...units.map((u) => join(dir, u))]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("rates portico.service's exposure at most 4.0 (systemd-analyze security, offline)", async () => {
    const fs = await unpacked("deb-security");
    const unit = join(scratch, "security", "portico.service");
    await mkdir(dirname(unit), { recursive: true });
    const text = await readFile(join(fs, "lib/systemd/system/portico.service"), "utf8");
    await writeFile(unit, text.replaceAll("/usr/bin/portico", join(fs, "usr/bin/portico")));
    // --threshold fails the command when the exposure (x10) is above it; 3.6 when written.
    const r = await must("systemd-analyze", ["security", "--offline=yes", "--threshold=40", unit]);
    const level = Number(/exposure level for portico\.service: (\d+\.\d)/.exec(r.stdout)?.[1]);
    expect(level).toBeLessThanOrEqual(4);
    expect(r.code).toBe(0);
  });
});

await describeWith([built(deb), program("lintian", ["--version"])], "lintian", () => {
  it("reports nothing, pedantic and informational tags included", { timeout: 180_000 }, async () => {
    const r = await must("lintian", ["--pedantic", "--display-info", "--fail-on", "error,warning,info,pedantic", deb]);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(0);
  });
});

await describeWith(
  [built(join(layout, "index.json")), program("umoci", ["--version"]), asRoot],
  "the OCI image",
  () => {
    let rootfs = "";
    beforeAll(async () => {
      const bundle = join(scratch, "oci");
      await must("umoci", ["unpack", "--image", `${layout}:${version}`, bundle]);
      rootfs = join(bundle, "rootfs");
      const config = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as { process: { args: string[] } };
      expect(config.process.args).toEqual(["/usr/bin/portico", "run", "--config", "/etc/portico/portico.yaml"]);
      for (const f of ["cluster.yaml", "portico.yaml"])
        await writeFile(join(rootfs, "tmp", f), await readFile(join(quickstart, f)));
    });
    const inImage = (args: readonly string[]) => must("/usr/sbin/chroot", [rootfs, ...args], { env: {} });

    it("is the same binary: the same version, and the same plan as the workspace CLI", async () => {
      expect((await inImage(["/usr/bin/portico", "--version"])).stdout).toMatch(stamp);
      const mine = await inImage([
        "/usr/bin/portico",
        "plan",
        "--cluster",
        "/tmp/cluster.yaml",
        "--config",
        "/tmp/portico.yaml",
      ]);
      const theirs = await workspace([
        "plan",
        "--cluster",
        join(quickstart, "cluster.yaml"),
        "--config",
        join(quickstart, "portico.yaml"),
      ]);
      expect(mine.stdout.length).toBeGreaterThan(500);
      expect(mine.stdout).toBe(theirs.stdout);
    });

    it("holds the haproxy that validates what portico renders there", async () => {
      await inImage([
        "/usr/bin/portico",
        "render",
        "--cluster",
        "/tmp/cluster.yaml",
        "--config",
        "/tmp/portico.yaml",
        "--node",
        "lb1",
        "--out",
        "/tmp/lb1",
      ]);
      const r = await inImage(["/usr/sbin/haproxy", "-c", "-f", "/tmp/lb1/haproxy.cfg"]);
      expect(r.stderr + r.stdout).toMatch(/Configuration file is valid/);
      expect(r.code).toBe(0);
      expect((await inImage(["/usr/sbin/keepalived", "--version"])).stderr + "").toMatch(/Keepalived v2\./);
    });
  },
);

describe("examples/deploy/daemonset.yaml", () => {
  it("runs this version's image as rbac.yaml's ServiceAccount, with no capability, on the config's paths", async () => {
    const rbac = parseAllDocuments(await readFile(join(repo, "examples/deploy/rbac.yaml"), "utf8")).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } },
    );
    const account = rbac.find((d) => d.kind === "ServiceAccount")!;
    type Spec = {
      serviceAccountName: string;
      hostNetwork: boolean;
      tolerations: unknown[];
      containers: {
        image: string;
        args: string[];
        securityContext: { capabilities: { drop: string[]; add?: string[] } };
        volumeMounts: { name: string; mountPath: string }[];
      }[];
      volumes: { name: string; hostPath?: { path: string } }[];
    };
    const ds = parse(await readFile(join(repo, "examples/deploy/daemonset.yaml"), "utf8")) as {
      kind: string;
      metadata: { namespace: string };
      spec: { template: { spec: Spec } };
    };
    const spec = ds.spec.template.spec;
    const [container] = spec.containers;
    expect(ds.kind).toBe("DaemonSet");
    expect([spec.serviceAccountName, ds.metadata.namespace]).toEqual([
      account.metadata.name,
      account.metadata.namespace,
    ]);
    expect(spec.hostNetwork).toBe(true);
    expect(spec.tolerations.length).toBeGreaterThan(0);
    expect(container!.image).toBe(`portico:${version}`);
    expect(container!.args.slice(0, 1)).toEqual(["run"]);
    expect(container!.securityContext.capabilities).toEqual({ drop: ["ALL"] });
    const mounted = container!.volumeMounts
      .filter((m) => spec.volumes.find((v) => v.name === m.name)?.hostPath !== undefined)
      .map((m) => m.mountPath);
    const { haproxy, keepalived } = CONFIG_DEFAULTS;
    for (const path of [
      haproxy.configPath,
      haproxy.statsSocket,
      haproxy.masterSocket,
      keepalived.configPath,
      keepalived.pidFile,
    ] as string[]) {
      expect(
        mounted.some((m) => dirname(path) === m || dirname(path).startsWith(`${m}/`)),
        path,
      ).toBe(true);
    }
  });
});
