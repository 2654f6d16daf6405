import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderNftables } from "../src/index.js";
import { goldenCases } from "./fixtures.js";

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), "golden");
// The only way goldens change: an explicit run with PORTICO_UPDATE_GOLDEN=1 (npm run golden:update).
const UPDATE = process.env["PORTICO_UPDATE_GOLDEN"] === "1";

describe("nftables.conf goldens", () => {
  for (const c of goldenCases) {
    for (const node of c.plan().lbNodes) {
      const file = join(GOLDEN, `${c.name}-${node.name}.nft`);
      it(`${c.name} for ${node.name} matches test/golden/${c.name}-${node.name}.nft byte for byte`, async () => {
        const text = renderNftables(c.plan(), { node: node.name })._unsafeUnwrap();
        if (UPDATE) {
          await mkdir(GOLDEN, { recursive: true });
          await writeFile(file, text, "utf8");
          return;
        }
        expect(existsSync(file), `${file} is missing; create it with PORTICO_UPDATE_GOLDEN=1 and review the diff`).toBe(
          true,
        );
        expect(text).toBe(await readFile(file, "utf8"));
      });
    }
  }
});
