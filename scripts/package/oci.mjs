// dist/oci (an OCI image layout, tag <version>) and dist/portico_<version>_oci.tar (the same,
// archived for `skopeo copy oci-archive:...`), built with umoci: no daemon, no base image to
// pull. The image holds the single executable and what `portico run` executes on an LB node
// (haproxy -c and keepalived -t to validate, ip to read addresses), with exactly the shared
// libraries they load, taken from this machine's Debian packages with their copyright files.
import { execFileSync } from "node:child_process";
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

const PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

/** Where `name` is on this machine's PATH. */
const which = (name) => {
  for (const dir of PATH.split(":")) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} is not installed here; the image takes it from this machine (apt-get install -y ${name})`);
};

/** The shared objects `binary` loads, as ldd resolves them (the dynamic loader included). */
const sharedObjects = (binary) =>
  execFileSync("ldd", [binary], { encoding: "utf8" })
    .split("\n")
    .map((line) => /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1])
    .filter((p) => p !== undefined);

/** The Debian package that installed `path` (or its real path), for its copyright file. */
const debianPackage = (path) => {
  for (const p of [path, realpathSync(path)]) {
    try {
      return execFileSync("dpkg-query", ["-S", p], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split(
        ":",
      )[0];
    } catch {
      // try the real path
    }
  }
  return undefined;
};

const umoci = (...args) => execFileSync("umoci", args, { stdio: ["ignore", "ignore", "inherit"] });

/** Bytes of the image's blobs: what a registry stores and a node pulls. */
const blobBytes = (layout) => {
  const dir = join(layout, "blobs/sha256");
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
};

/** Build the OCI image of the single executable; returns the layout directory. */
export const buildOci = (ctx) => {
  const { dist, work, version, commit, exe, say, mib, epoch } = ctx;
  const layout = join(dist, "oci");
  const bundle = join(work, "oci-bundle");
  rmSync(layout, { recursive: true, force: true });
  rmSync(bundle, { recursive: true, force: true });
  const image = `${layout}:${version}`;
  umoci("init", "--layout", layout);
  umoci("new", "--image", image);
  umoci("unpack", "--image", image, bundle);
  const rootfs = join(bundle, "rootfs");

  const place = (from, to, mode) => {
    const target = join(rootfs, to);
    mkdirSync(join(target, ".."), { recursive: true });
    copyFileSync(from, target);
    chmodSync(target, mode);
  };
  const programs = [
    [exe, "/usr/bin/portico"],
    [which("haproxy"), "/usr/sbin/haproxy"],
    [which("keepalived"), "/usr/sbin/keepalived"],
    [which("ip"), "/usr/bin/ip"],
  ];
  const libraries = new Set(programs.flatMap(([from]) => sharedObjects(from)));
  for (const [from, to] of programs) place(from, to, 0o755);
  for (const lib of libraries) place(lib, lib, 0o755);

  const packages = new Set(
    [...programs.slice(1).map(([from]) => from), ...libraries].map(debianPackage).filter((p) => p !== undefined),
  );
  for (const p of packages) {
    const file = `/usr/share/doc/${p.replace(/:.*$/, "")}/copyright`;
    try {
      place(file, file, 0o644);
    } catch {
      // a package without a copyright file of its own (it shares its source package's)
    }
  }
  // keepalived -t looks up keepalived.scriptUser (nobody) and HAProxy its workers' user and group
  // (haproxy, locked into /var/lib/haproxy, as Debian's package makes them); glibc reads files
  // without NSS modules.
  const etc = join(rootfs, "etc");
  mkdirSync(etc, { recursive: true });
  writeFileSync(
    join(etc, "passwd"),
    "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
      "haproxy:x:104:104::/var/lib/haproxy:/usr/sbin/nologin\n" +
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
  );
  writeFileSync(join(etc, "group"), "root:x:0:\nhaproxy:x:104:\nnogroup:x:65534:\n");
  mkdirSync(join(rootfs, "var/lib/haproxy"), { recursive: true });
  writeFileSync(join(etc, "nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
  mkdirSync(join(rootfs, "tmp"), { recursive: true });
  chmodSync(join(rootfs, "tmp"), 0o1777);

  umoci("repack", "--image", image, bundle);
  const created = new Date(epoch * 1000).toISOString();
  umoci(
    "config",
    "--image",
    image,
    "--os",
    "linux",
    "--architecture",
    "amd64",
    "--created",
    created,
    "--author",
    "Portico maintainers",
    "--config.entrypoint",
    "/usr/bin/portico",
    "--config.cmd",
    "run",
    "--config.cmd",
    "--config",
    "--config.cmd",
    "/etc/portico/portico.yaml",
    "--config.env",
    `PATH=${PATH}`,
    "--config.user",
    "0:0",
    "--config.label",
    `org.opencontainers.image.title=portico`,
    "--config.label",
    `org.opencontainers.image.version=${version}`,
    "--config.label",
    `org.opencontainers.image.revision=${commit}`,
    "--config.label",
    `org.opencontainers.image.licenses=Apache-2.0`,
  );
  umoci("gc", "--layout", layout);
  const archive = join(dist, `portico_${version}_oci.tar`);
  execFileSync("tar", [
    "--sort=name",
    `--mtime=@${epoch}`,
    "--owner=0",
    "--group=0",
    "-cf",
    archive,
    "-C",
    layout,
    ".",
  ]);
  say(
    `OCI image: ${layout} tag ${version} (blobs ${(blobBytes(layout) / 2 ** 20).toFixed(1)} MiB; ` +
      `archive ${archive}, ${mib(archive)}; ${libraries.size} shared objects)`,
  );
  return layout;
};
