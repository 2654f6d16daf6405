import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", "**/coverage/**"] },
  js.configs.recommended,
  { files: ["**/*.mjs", "**/*.js"], languageOptions: { globals: globals.node } },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // Child processes only through @portico/host's run() helper.
    files: ["packages/*/src/**/*.ts"],
    ignores: ["packages/host/src/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "node:child_process", message: "Use run() from @portico/host." },
            { name: "child_process", message: "Use run() from @portico/host." },
          ],
        },
      ],
    },
  },
  {
    // The core is pure: no I/O, no clock, no randomness (DESIGN.md, "Shape").
    files: ["packages/core/src/**/*.ts"],
    ignores: ["packages/core/src/testing/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["node:*", "fs", "fs/*", "child_process", "net", "os", "@kubernetes/*"],
              message: "@portico/core stays pure.",
            },
          ],
        },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "The core has no clock." },
        { object: "Math", property: "random", message: "The core has no randomness." },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "The core has no clock." },
      ],
    },
  },
);
