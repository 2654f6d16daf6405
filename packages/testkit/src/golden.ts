import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { expect } from "vitest";

/** UPDATE_GOLDEN is true in a run meant to rewrite golden files (`npm run golden:update` sets PORTICO_UPDATE_GOLDEN=1). */
export const UPDATE_GOLDEN = process.env["PORTICO_UPDATE_GOLDEN"] === "1";

/**
 * expectGolden compares `text` with the golden file at `path` byte for byte; in an update run
 * (PORTICO_UPDATE_GOLDEN=1, the one way a golden changes) it writes the file instead. A missing
 * golden fails rather than quietly passing.
 */
export const expectGolden = async (path: string, text: string): Promise<void> => {
  if (UPDATE_GOLDEN) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, "utf8");
    return;
  }
  expect(existsSync(path), `${path} is missing; write it with npm run golden:update and review the diff`).toBe(true);
  expect(text).toBe(await readFile(path, "utf8"));
};
