import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { expectGolden } from "@portico/testkit";
import { goldenCases } from "./fixtures.js";

const goldenPath = (name: string): string => fileURLToPath(new URL(`./golden/${name}.cfg`, import.meta.url));

describe("haproxy.cfg golden files", () => {
  for (const [name, plan] of Object.entries(goldenCases))
    it(`renders ${name} byte for byte as test/golden/${name}.cfg`, () =>
      expectGolden(goldenPath(name), renderHaproxy(plan(), {})._unsafeUnwrap()));
});
