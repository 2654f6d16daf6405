import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { goldenCases } from "./fixtures.js";

// PORTICO_UPDATE_GOLDEN=1 (`npm run golden:update`) is the one way to (re)write goldens; a plain
// run only compares, so a missing or changed golden fails instead of quietly passing.
const UPDATE = process.env["PORTICO_UPDATE_GOLDEN"] === "1";

const goldenPath = (name: string): string => fileURLToPath(new URL(`./golden/${name}.cfg`, import.meta.url));

describe("haproxy.cfg golden files", () => {
  for (const [name, plan] of Object.entries(goldenCases)) {
    it(`renders ${name} byte for byte as test/golden/${name}.cfg`, async () => {
      const text = renderHaproxy(plan(), {})._unsafeUnwrap();
      const path = goldenPath(name);
      if (UPDATE) {
        await writeFile(path, text, "utf8");
        return;
      }
      expect(existsSync(path), `${path} is missing; run npm run golden:update`).toBe(true);
      expect(text).toBe(await readFile(path, "utf8"));
    });
  }
});
