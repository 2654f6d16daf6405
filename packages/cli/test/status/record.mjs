// Record what `portico status` reads on a real LB node, as fixtures for its golden tests:
// the runtime API's raw answer to the batch status sends, `ip -j addr show dev eth0`, and the
// rendered haproxy.cfg, keepalived.conf and plan.json it was read against.
// Needs root, haproxy 2.6 and iproute2. Run after `npm run build`:
//   node packages/cli/test/status/record.mjs
// then `npm run golden:update` to regenerate the golden tables from the new fixtures.
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "@portico/host";
import { exchange, startScenario } from "./scenario.mjs";

const fixtures = join(import.meta.dirname, "fixtures");
const dir = await mkdtemp("/tmp/portico-status-record-");
const scenario = await startScenario(dir);
try {
  // Exactly the batch `portico status` sends (the replaying test checks it receives this).
  const raw = await exchange(join(dir, "admin.sock"), "prompt\nshow stat\nquit\n");
  // The temp directory's name is in no answer; the fixtures stay the same wherever they are made.
  await writeFile(join(fixtures, "runtime-answer.txt"), raw);
  const ip = await run("ip", ["-n", scenario.ns, "-j", "addr", "show", "dev", "eth0"]);
  if (ip.isErr() || ip.value.code !== 0) throw new Error("ip addr failed");
  await writeFile(join(fixtures, "ip-addr.json"), ip.value.stdout);
  for (const f of ["haproxy.cfg", "keepalived.conf", "plan.json"])
    await copyFile(join(dir, "etc", f), join(fixtures, f));
  process.stdout.write(`recorded into ${fixtures}\n`);
} finally {
  await scenario.stop();
  await rm(dir, { recursive: true, force: true });
}
