// `npm run docs:links`: every relative link in README.md and docs/*.md must name a file or
// directory that exists, and a `#fragment` into a Markdown file must name one of its headings
// (GitHub's anchor rules). External links (https:, mailto:) are not fetched.
// scripts/check-links.test.ts runs the same check under `npm test`.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The files whose links are checked, relative to the repository root. */
export const documentFiles = (root) => [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
export const slug = (heading) =>
  heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1") // [text](url) renders as text
    .replace(/[`*]/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

// Fenced code blocks and inline code spans hold examples, not links.
const withoutCode = (text) =>
  text
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, " "))
    .replace(/`[^`\n]*`/g, (span) => " ".repeat(span.length));

/** The anchors a Markdown text defines: one per heading (duplicates get -1, -2 ...), plus explicit ids. */
export const anchorsOf = (text) => {
  const seen = new Map();
  const anchors = new Set();
  const body = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const m of body.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of body.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]);
  return anchors;
};

/** The link targets of a Markdown text with their line numbers: inline links, images and reference definitions. */
export const linksOf = (text) => {
  const out = [];
  withoutCode(text)
    .split("\n")
    .forEach((line, i) => {
      for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
        out.push({ target: m[1], line: i + 1 });
      // `[^note]: text` is a footnote, not a link definition; its links are inline ones.
      const def = /^\s{0,3}\[(?!\^)[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line);
      if (def !== null) out.push({ target: def[1], line: i + 1 });
    });
  return out;
};

/** Every broken relative link in `files` (paths relative to `root`), as `file:line: message`. */
export const checkLinks = (root, files = documentFiles(root)) => {
  const problems = [];
  const anchorCache = new Map();
  const anchorsIn = (path) => {
    if (!anchorCache.has(path)) anchorCache.set(path, anchorsOf(readFileSync(path, "utf8")));
    return anchorCache.get(path);
  };
  for (const file of files) {
    const source = join(root, file);
    for (const { target, line } of linksOf(readFileSync(source, "utf8"))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...
      const [pathPart, fragment] = target.split("#", 2);
      const path = decodeURIComponent((pathPart ?? "").split("?")[0] ?? "");
      const resolved = path === "" ? source : resolve(dirname(source), path);
      const where = `${file}:${line}`;
      if (!resolved.startsWith(resolve(root))) {
        problems.push(`${where}: ${target} points outside the repository`);
        continue;
      }
      if (!existsSync(resolved)) {
        problems.push(`${where}: ${target}: no such file or directory (${relative(root, resolved)})`);
        continue;
      }
      if (
        fragment !== undefined &&
        fragment !== "" &&
        statSync(resolved).isFile() &&
        resolved.endsWith(".md") &&
        !anchorsIn(resolved).has(fragment)
      ) {
        problems.push(`${where}: ${target}: ${relative(root, resolved)} has no heading with the anchor #${fragment}`);
      }
    }
  }
  return problems;
};

// Run as a program: print the problems, exit 1 if there are any.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const problems = checkLinks(root);
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.stdout.write(
    problems.length === 0 ? `links: every relative link in ${documentFiles(root).join(", ")} resolves\n` : "",
  );
  process.exit(problems.length === 0 ? 0 : 1);
}
