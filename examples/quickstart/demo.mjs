// `npm run demo`: plan the quickstart cluster, render the files for every LB node, and check them
// with the real haproxy and keepalived when they are installed.
import { readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { main } from "@portico/cli";
import { validateHaproxy } from "@portico/adapter-haproxy";
import { validateKeepalivedIsolated } from "@portico/adapter-keepalived";
import { validateNftables } from "@portico/adapter-nftables";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../..");
const cluster = relative(repo, join(here, "cluster.yaml"));
const config = relative(repo, join(here, "portico.yaml"));
process.chdir(repo);

const say = (line = "") => process.stdout.write(`${line}\n`);
const heading = (text) => say(`\n== ${text}`);

heading(`portico plan --cluster ${cluster} --config ${config}`);
const planCode = await main(["plan", "--cluster", cluster, "--config", config]);
// Exit 1 is expected: shop/broken asks HAProxy (data-plane: proxy) to serve a UDP-only port, which it
// cannot. shop/api serves HTTPS on TCP 8443 through HAProxy and QUIC on UDP 8443 through nftables.
say(
  `(exit ${planCode}: ${planCode === 1 ? "one Service could not be planned, as the example intends" : planCode === 0 ? "all planned" : "error"})`,
);
if (planCode > 1) process.exit(planCode);

const lbNodes = parse(await readFile(config, "utf8")).lbNodes;
let failures = 0;
for (const node of lbNodes) {
  const out = join("out", "quickstart", node.name);
  heading(`portico render --cluster ${cluster} --config ${config} --node ${node.name} --out ${out}`);
  const code = await main(["render", "--cluster", cluster, "--config", config, "--node", node.name, "--out", out]);
  if (code > 1) process.exit(code);

  const haproxy = await validateHaproxy(await readFile(join(out, "haproxy.cfg"), "utf8"), {});
  haproxy.match(
    () => say(`  haproxy -c: ${join(out, "haproxy.cfg")} is valid`),
    (e) => {
      if (e.kind === "unavailable")
        say(`  haproxy -c: skipped, haproxy is not installed (${e.hint ?? "apt-get install -y haproxy"})`);
      else {
        failures++;
        say(`  haproxy -c: FAILED\n${e.message}`);
      }
    },
  );

  // nft -c talks to the kernel's nftables (it needs CAP_NET_ADMIN) but loads nothing.
  const nftables = await validateNftables(await readFile(join(out, "nftables.conf"), "utf8"), {});
  nftables.match(
    () => say(`  nft -c: ${join(out, "nftables.conf")} is valid`),
    (e) => {
      if (e.kind === "unavailable")
        say(`  nft -c: skipped, nft is not installed (${e.hint ?? "apt-get install -y nftables"})`);
      else if (e.message.includes("Operation not permitted")) say("  nft -c: skipped, it needs root (CAP_NET_ADMIN)");
      else {
        failures++;
        say(`  nft -c: FAILED\n${e.message}`);
      }
    },
  );

  // keepalived -t refuses a config whose interface does not exist where it runs, so it checks
  // inside a scratch network namespace that has the LB node's interface (root only).
  const keepalived = await validateKeepalivedIsolated(await readFile(join(out, "keepalived.conf"), "utf8"), {
    interfaces: [node.interface],
  });
  keepalived.match(
    () =>
      say(
        `  keepalived -t: ${join(out, "keepalived.conf")} is valid (checked in a scratch namespace with ${node.interface})`,
      ),
    (e) => {
      if (e.kind === "unavailable") say(`  keepalived -t: skipped: ${e.message}${e.hint ? ` (${e.hint})` : ""}`);
      else {
        failures++;
        say(`  keepalived -t: FAILED\n${e.message}`);
      }
    },
  );
}

heading(failures === 0 ? "done: the files above are what each LB node would run" : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
