// Writes docs/reference.md from @portico/core's own option and config tables (npm run docs:reference).
import { fileURLToPath } from "node:url";
import { renderReference } from "@portico/core/reference";
import { writeFileAtomic } from "@portico/host";

const path = fileURLToPath(new URL("../docs/reference.md", import.meta.url));
const result = await writeFileAtomic(path, renderReference());
if (result.isErr()) {
  process.stderr.write(`docs:reference: ${result.error.message}\n`);
  process.exit(1);
}
process.stdout.write(`wrote ${path}\n`);
