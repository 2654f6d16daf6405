// keepalived.conf syntax: `keyword args`, `name {` ... `}` blocks, `#` comment lines.

const INDENT = "    ";

/** A block: the head line, the body indented by one level, the closing brace. */
export const block = (head: string, body: readonly string[]): string[] => [
  `${head} {`,
  ...body.map((line) => (line === "" ? "" : `${INDENT}${line}`)),
  "}",
];

/** Comment lines; each line of text becomes one `# ...` line. */
export const comment = (...lines: readonly string[]): string[] => lines.map((line) => `# ${line}`);

/** Milliseconds as keepalived's decimal seconds, exactly: 100 -> "0.1", 1000 -> "1", 40950 -> "40.95". */
export const seconds = (ms: number): string => {
  const whole = Math.floor(ms / 1000);
  const fraction = String(ms % 1000)
    .padStart(3, "0")
    .replace(/0+$/, "");
  return fraction === "" ? String(whole) : `${whole}.${fraction}`;
};

/** A section's lines as text. */
export const section = (lines: readonly string[]): string => lines.join("\n");

/** Sections (as text) separated by one blank line; the file ends with exactly one newline. */
export const file = (sections: readonly string[]): string => `${sections.join("\n\n")}\n`;
