// dist/portico_<version>_amd64.deb: the single executable, the systemd units, an example config
// (a conffile that `portico doctor` fails until it is edited), the man page and completions.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";

/** The files under `dir`, depth first, sorted. */
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

/** Write `text` at `stage/path` with `mode`, making its directories. */
const put = (stage, path, data, mode = 0o644) => {
  const file = join(stage, path);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, data);
  chmodSync(file, mode);
};

/** The shared libraries the binary needs, as Debian dependencies (dpkg-shlibdeps reads its ELF). */
const shlibsDepends = (work, binary) => {
  const dir = join(work, "shlibs");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "debian"), { recursive: true });
  writeFileSync(join(dir, "debian/control"), "Source: portico\n\nPackage: portico\nArchitecture: amd64\n");
  const out = execFileSync("dpkg-shlibdeps", ["-O", `-e${binary}`], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const m = /^shlibs:Depends=(.*)$/m.exec(out);
  if (m === null) throw new Error(`dpkg-shlibdeps printed no shlibs:Depends: ${out}`);
  return m[1].trim();
};

const copyright = (bundled, year) => `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: portico
Source: https://portico.dev

Files: *
Copyright: ${year} Portico maintainers
License: Apache-2.0

Files: usr/bin/portico
Copyright: ${year} Portico maintainers
 Node.js contributors and the authors of the npm packages below
License: Apache-2.0 and Expat and others
Comment: /usr/bin/portico is a Node.js ${process.version} single executable application: the
 Node.js runtime (Expat; its LICENSE lists the licenses of V8, OpenSSL, ICU, libuv and its other
 components) with Portico and these npm packages bundled in:
${bundled.map((p) => ` ${p.name} ${p.version} (${p.license})`).join("\n")}

License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
`;

const MARKER = "# portico: the packaged example;";

/** Build the .deb from the single executable; returns its path. */
export const buildDeb = (ctx, { man, changelog, bundled }) => {
  const { root, dist, work, version, exe, say, mib, runSea, epoch } = ctx;
  const stage = join(work, "deb");
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, "usr/bin"), { recursive: true });
  copyFileSync(exe, join(stage, "usr/bin/portico"));
  chmodSync(join(stage, "usr/bin/portico"), 0o755);

  const deploy = join(root, "examples/deploy");
  const packaging = join(root, "packaging/debian");
  put(stage, "lib/systemd/system/portico.service", readFileSync(join(deploy, "portico.service")));
  put(stage, "lib/systemd/system/portico-tune.service", readFileSync(join(deploy, "portico-tune.service")));
  // keepalived's HAProxy check for vrrp.haproxyCheck kind stats (Perl: perl-base is essential).
  put(stage, "usr/lib/portico/haproxy-check", readFileSync(join(root, "packaging/haproxy-check")), 0o755);
  // The doctor check looks for the first line; editing the file means deleting it.
  const marker = `${MARKER} set pools and lbNodes for your network, then delete this line.\n`;
  const example = marker + readFileSync(join(deploy, "portico.yaml"), "utf8");
  put(stage, "etc/portico/portico.yaml", example);
  put(stage, "usr/share/doc/portico/copyright", copyright(bundled, new Date(epoch * 1000).getUTCFullYear()));
  put(stage, "usr/share/doc/portico/changelog.gz", changelog);
  put(stage, "usr/share/man/man1/portico.1.gz", man);
  put(stage, "usr/share/bash-completion/completions/portico", runSea(exe, ["completion", "bash"]));
  put(stage, "usr/share/zsh/vendor-completions/_portico", runSea(exe, ["completion", "zsh"]));
  put(stage, "usr/share/lintian/overrides/portico", readFileSync(join(packaging, "lintian-overrides")));

  const files = walk(stage);
  const installedKib = files.reduce((n, f) => n + Math.ceil(statSync(f).size / 1024), 0);
  const md5sums = files
    .map((f) => `${createHash("md5").update(readFileSync(f)).digest("hex")}  ${relative(stage, f)}\n`)
    .join("");
  const depends = [
    shlibsDepends(work, join(stage, "usr/bin/portico")),
    "haproxy (>= 2.4)",
    "keepalived (>= 2.0)",
    "iproute2",
  ].join(", ");
  const control = `Package: portico
Version: ${version}
Architecture: amd64
Maintainer: Portico maintainers <maintainers@portico.dev>
Installed-Size: ${installedKib}
Depends: ${depends}
Suggests: tcpdump
Section: net
Priority: optional
Homepage: https://portico.dev
Description: cloud-style LoadBalancer Services for bare-metal Kubernetes
 Portico gives type: LoadBalancer Services a virtual IP held by dedicated
 load-balancer nodes: HAProxy balances TCP to every eligible node's nodePort,
 health-checked on the Service's healthCheckNodePort, with the PROXY protocol
 to keep client addresses; keepalived moves the virtual IPs between the nodes
 with VRRP. This package holds the portico command (a self-contained binary:
 no Node.js needed) and its systemd units, which it installs but never starts.
`;
  put(stage, "DEBIAN/control", control);
  put(stage, "DEBIAN/conffiles", "/etc/portico/portico.yaml\n");
  put(stage, "DEBIAN/md5sums", md5sums);
  for (const script of ["postinst", "prerm", "postrm"])
    put(stage, `DEBIAN/${script}`, readFileSync(join(packaging, script)), 0o755);

  const deb = join(dist, `portico_${version}_amd64.deb`);
  rmSync(deb, { force: true });
  // xz: the Node runtime in the binary compresses to about a third; gzip would leave it near half.
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", stage, deb], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
  });
  say(`debian package: ${deb} (${mib(deb)}; installed ${Math.round(installedKib / 1024)} MiB)`);
  return deb;
};
