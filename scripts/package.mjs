// `npm run package`: the single-file `portico` for linux-x64 (Node's single executable
// applications: an esbuild bundle injected into a copy of this Node binary with postject), the
// Debian package around it, and an OCI image of the same binary (built with umoci, no daemon).
// Everything lands in dist/. Run after `npm run build`: the bundle takes the packages' builds.
//   node scripts/package.mjs [sea] [deb] [oci]     (default: all three, in that order)
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { inject } from "postject";
import { buildDeb } from "./package/deb.mjs";
import { buildOci } from "./package/oci.mjs";

const root = resolve(import.meta.dirname, "..");
const dist = join(root, "dist");
const work = join(dist, "build");
const version = JSON.parse(readFileSync(join(root, "packages/cli/package.json"), "utf8")).version;
const FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** `git <args>` in the checkout, or undefined outside git. */
const git = (...args) => {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
};

// A build from uncommitted changes says so: it is not what the commit holds.
const head = git("rev-parse", "HEAD");
const commit = head === undefined ? "unknown" : `${head}${git("status", "--porcelain") === "" ? "" : "-dirty"}`;
// One date for every timestamp in the artifacts: the commit's, so a rebuild gives the same files.
const epoch = Number(git("log", "-1", "--format=%ct") ?? "0");
const mib = (file) => `${(statSync(file).size / 2 ** 20).toFixed(1)} MiB`;
const say = (text) => process.stdout.write(`${text}\n`);

// Optional native helpers that packages try to require inside try/catch. Left unresolved they
// become a runtime require that a single executable cannot serve (and warns about on every
// start); resolved to a module that throws, they take the same fallback as when not installed.
const ABSENT = ["bufferutil", "utf-8-validate", "encoding"];
const absentOptional = {
  name: "absent-optional",
  setup(b) {
    const filter = new RegExp(`^(${ABSENT.join("|")})$`);
    b.onResolve({ filter }, (a) => ({ path: a.path, namespace: "absent" }));
    b.onLoad({ filter: /.*/, namespace: "absent" }, (a) => ({
      contents: `const e = new Error("Cannot find module '${a.path}'"); e.code = "MODULE_NOT_FOUND"; throw e;`,
      loader: "js",
    }));
  },
};

/** Bundle the CLI into one CommonJS file (Node 20 runs only a CommonJS main in a single executable). */
const bundle = async () => {
  const outfile = join(work, "portico.cjs");
  const result = await build({
    entryPoints: [join(root, "packages/cli/src/bin.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    outfile,
    minifySyntax: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    plugins: [absentOptional],
    define: {
      __PORTICO_COMMIT__: JSON.stringify(commit),
      __PORTICO_BUILD__: JSON.stringify("single executable linux-x64"),
    },
  });
  return { outfile, inputs: Object.keys(result.metafile.inputs) };
};

/** The npm packages in the bundle with their licenses, for the copyright file. */
const bundledPackages = (inputs) => {
  const dirs = new Set();
  for (const input of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m !== null) dirs.add(m[1]);
  }
  return [...dirs]
    .map((d) => JSON.parse(readFileSync(join(root, d, "package.json"), "utf8")))
    .filter((p) => !p.name.startsWith("@portico/"))
    .map((p) => ({
      name: p.name,
      version: p.version,
      license: typeof p.license === "string" ? p.license : "see the package",
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
};

/** dist/portico: this Node binary with the bundle injected as its single executable application. */
const sea = async () => {
  if (process.platform !== "linux" || process.arch !== "x64")
    throw new Error("the single executable is built for linux-x64 on linux-x64");
  mkdirSync(work, { recursive: true });
  const { outfile, inputs } = await bundle();
  const blob = join(work, "portico.blob");
  const seaConfig = join(work, "sea-config.json");
  // No code cache: V8's differs from build to build, so the binary (and the .deb) would change at
  // every rebuild of one commit; without it they are identical. It would save about 0.15 s of the
  // 0.4-0.8 s a quickstart plan takes.
  writeFileSync(seaConfig, JSON.stringify({ main: outfile, output: blob, disableExperimentalSEAWarning: true }));
  execFileSync(process.execPath, ["--experimental-sea-config", seaConfig], { stdio: ["ignore", "ignore", "inherit"] });
  const exe = join(dist, "portico");
  rmSync(exe, { force: true });
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  // The symbol table only serves debuggers (12 MiB); stripped before the blob goes in, so the
  // injected note stays as postject wrote it.
  execFileSync("strip", ["--strip-unneeded", "--remove-section=.comment", exe]);
  await inject(exe, "NODE_SEA_BLOB", readFileSync(blob), { sentinelFuse: FUSE });
  const packages = bundledPackages(inputs);
  writeFileSync(join(work, "bundled.json"), JSON.stringify(packages, null, 2) + "\n");
  say(
    `single executable: ${exe} (${mib(exe)}; bundle ${mib(outfile)}, ${packages.length} npm packages) from ${commit}`,
  );
  return exe;
};

/** Run the single executable with an empty environment, as an LB node without Node would. */
const runSea = (exe, args) => execFileSync(exe, args, { encoding: "utf8", env: {} });

/** A man page from the command's own help texts, so it cannot drift from them. */
const manPage = (exe) => {
  const roff = (text) => text.replace(/\\/g, "\\e").replace(/^([.'])/gm, "\\&$1");
  const commands = ["plan", "render", "apply", "run", "doctor", "status", "tune", "completion"];
  const sections = commands.map((c) => `.SS ${c}\n.nf\n${roff(runSea(exe, [c, "--help"]).trimEnd())}\n.fi`);
  const date = new Date(epoch * 1000).toISOString().slice(0, 10);
  return [
    `.TH PORTICO 1 "${date}" "portico ${version}" "User Commands"`,
    ".SH NAME",
    "portico \\- cloud-style LoadBalancer Services for bare-metal Kubernetes (HAProxy + keepalived)",
    ".SH SYNOPSIS",
    ".nf",
    roff(runSea(exe, ["--help"]).trimEnd()),
    ".fi",
    ".SH COMMANDS",
    ...sections,
    ".SH FILES",
    "/etc/portico/portico.yaml, /etc/portico/kubeconfig, /lib/systemd/system/portico.service",
    "",
  ].join("\n");
};

const main = async () => {
  const wanted = process.argv.slice(2);
  const steps = wanted.length === 0 ? ["sea", "deb", "oci"] : wanted;
  const unknown = steps.filter((s) => !["sea", "deb", "oci"].includes(s));
  if (unknown.length > 0) throw new Error(`unknown step ${unknown.join(", ")}; steps: sea, deb, oci`);
  const exe = steps.includes("sea") ? await sea() : join(dist, "portico");
  const reported = runSea(exe, ["--version"]).trim();
  if (!reported.startsWith(`portico ${version} (commit ${commit}`))
    throw new Error(`${exe} --version says "${reported}"`);
  const ctx = { root, dist, work, version, commit, epoch, exe, say, mib, runSea, git };
  if (steps.includes("deb")) {
    const debianDate = new Date(epoch * 1000).toUTCString().replace("GMT", "+0000");
    const bundled = JSON.parse(readFileSync(join(work, "bundled.json"), "utf8"));
    const changelog = gzipSync(
      `portico (${version}) unstable; urgency=medium\n\n  * Portico ${version}, built from commit ${commit}.\n\n` +
        ` -- Portico maintainers <maintainers@portico.dev>  ${debianDate}\n`,
      { level: 9 },
    );
    buildDeb(ctx, { man: gzipSync(manPage(exe), { level: 9 }), changelog, bundled });
  }
  if (steps.includes("oci")) buildOci(ctx);
};

mkdirSync(dirname(work), { recursive: true });
main().catch((e) => {
  process.stderr.write(`package: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
