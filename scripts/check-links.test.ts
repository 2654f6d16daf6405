import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { anchorsOf, checkLinks, documentFiles, slug } from "./check-links.mjs";

const repo = resolve(import.meta.dirname, "..");

describe("docs links", () => {
  it("every relative link in README.md and docs/*.md resolves to a file, and every #anchor to a heading", () => {
    expect(documentFiles(repo)).toContain("docs/concepts.md");
    expect(checkLinks(repo)).toEqual([]);
  });
});

describe("the link checker", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("makes GitHub's anchors", () => {
    expect(slug("Operations: `portico apply` on an LB node")).toBe("operations-portico-apply-on-an-lb-node");
    expect(slug("Health checks: [healthCheckNodePort](x.md) and kube-proxy")).toBe(
      "health-checks-healthchecknodeport-and-kube-proxy",
    );
    expect([...anchorsOf("# A\n## A\n```\n# not a heading\n```\n")]).toEqual(["a", "a-1"]);
  });

  it("reports a missing file, a missing anchor and a link out of the tree, and ignores code and external links", async () => {
    const root = await mkdtemp(join(tmpdir(), "portico-links-"));
    dirs.push(root);
    await mkdir(join(root, "docs"));
    await writeFile(join(root, "docs", "a.md"), "# Title\n\n## Real section\n");
    await writeFile(
      join(root, "README.md"),
      [
        "[ok](docs/a.md) [ok too](docs/a.md#real-section) [self](#top) [web](https://example.com/x)",
        "[gone](docs/missing.md)",
        "[no anchor](docs/a.md#not-there)",
        "[out](../elsewhere.md)",
        "`[in code](docs/missing.md)`",
        "[^note]: a footnote with [a link](docs/a.md) [and a broken one](docs/nope.md)",
        "[ref]: docs/gone-too.md",
        "```",
        "[in a block](docs/missing.md)",
        "```",
        "# Top",
      ].join("\n"),
    );
    expect(checkLinks(root, ["README.md", "docs/a.md"])).toEqual([
      "README.md:2: docs/missing.md: no such file or directory (docs/missing.md)",
      "README.md:3: docs/a.md#not-there: docs/a.md has no heading with the anchor #not-there",
      "README.md:4: ../elsewhere.md points outside the repository",
      "README.md:6: docs/nope.md: no such file or directory (docs/nope.md)",
      "README.md:7: docs/gone-too.md: no such file or directory (docs/gone-too.md)",
    ]);
  });
});
