// Figure 9, hostile input: `portico plan` (the built binary, in its own process) of a cluster
// whose 30 Services each carry 256 KiB of unknown portico.dev/ annotations (what the API server
// accepts per object), and of a Service whose EndpointSlices hold 8,000 pods (slot layout).
// Wall time and peak RSS come from /usr/bin/time. Usage: node hostile-case.js <services> <runs>
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@portico/host";
import { aConfig, aService, threeNodes } from "@portico/core/testing";
import { PORTICO_BIN, report } from "./_case.js";

const [services = 30, runs = 3] = process.argv.slice(2).map(Number);
const ANNOTATION_BYTES = 256 * 1024;

const annotations = (): Record<string, string> => {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (let i = 0; bytes < ANNOTATION_BYTES - 64; i++) {
    const key = `portico.dev/unknown-option-${i}`;
    out[key] = "x";
    bytes += key.length + 1;
  }
  return out;
};

const dir = await mkdtemp(join(tmpdir(), "portico-bench-hostile-"));
try {
  const items = [
    ...threeNodes(),
    ...Array.from({ length: services }, (_, i) => aService({ name: `svc-${i}`, annotations: annotations() })),
  ];
  const cluster = join(dir, "cluster.json");
  const config = join(dir, "portico.json");
  await writeFile(cluster, JSON.stringify({ apiVersion: "v1", kind: "List", items }));
  await writeFile(config, JSON.stringify(aConfig()));
  const seconds: number[] = [];
  const peakMb: number[] = [];
  for (let r = 0; r < runs; r++) {
    const args = ["-f", "%e %M", process.execPath, PORTICO_BIN, "plan", "--cluster", cluster, "--config", config];
    const out = await run("/usr/bin/time", [...args, "--output", "json"], { timeoutMs: 600_000 });
    if (out.isErr()) throw new Error(out.error.message);
    // Exit 0 or 1 (some Services have warnings only, so 0 is expected); 2 would be a failure to read.
    if (out.value.code === null || out.value.code > 1)
      throw new Error(`portico plan exited ${out.value.code}: ${out.value.stderr.slice(-500)}`);
    const [e, m] = (out.value.stderr.trim().split("\n").pop() ?? "").split(" ").map(Number);
    seconds.push(e ?? NaN);
    peakMb.push((m ?? NaN) / 1024);
  }
  report({
    figures: [
      {
        name: `9. portico plan of ${services} Services with 256 KiB of unknown annotations each: wall time`,
        values: seconds,
        unit: "s",
        goal: "seconds",
      },
      { name: "9. ... peak RSS", values: peakMb, unit: "MB", goal: "< 500 MB" },
    ],
  });
} catch (e) {
  report({ error: e instanceof Error ? e.message : String(e) });
} finally {
  await rm(dir, { recursive: true, force: true });
}
