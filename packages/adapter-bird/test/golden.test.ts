import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { expectGolden } from "@portico/testkit";
import { renderBird } from "../src/index.js";
import { goldenCases } from "./fixtures.js";

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), "golden");

describe("bird.conf goldens", () => {
  for (const c of goldenCases)
    for (const node of c.plan().lbNodes)
      it(`${c.name} for ${node.name} matches test/golden/${c.name}-${node.name}.conf byte for byte`, () =>
        expectGolden(
          join(GOLDEN, `${c.name}-${node.name}.conf`),
          renderBird(c.plan(), { node: node.name })._unsafeUnwrap(),
        ));
});
