import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import { parseAllDocuments } from "yaml";
import { formatConfigIssues, parseConfig, type Config, type LbNode } from "@portico/core";

/** A problem with the command's input: one line, naming the file. Exit code 2. */
export interface InputError {
  readonly kind: "input";
  readonly message: string;
}

const inputError = (message: string): InputError => ({ kind: "input", message });

const CLUSTER_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/** Decode YAML (one or many documents) or JSON text; errors name the file, line and column. */
export const decodeDocuments = (text: string, file: string): Result<unknown[], InputError> => {
  // JSON is YAML, but a JSON file's errors read better from the JSON parser.
  if (file.endsWith(".json")) {
    try {
      return ok([JSON.parse(text) as unknown]);
    } catch (e) {
      return err(inputError(`${file}: not valid JSON: ${(e as Error).message}`));
    }
  }
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  for (const doc of list) {
    const first = doc.errors[0];
    if (first !== undefined) {
      const pos = first.linePos?.[0];
      const where = pos === undefined ? "" : ` at line ${pos.line}, column ${pos.col}`;
      return err(inputError(`${file}: not valid YAML${where}: ${first.message.split("\n")[0] ?? ""}`));
    }
    // The yaml library throws (rather than reporting) on an alias bomb and on nesting deeper
    // than the stack; either is bad input, not a bug.
    try {
      out.push(doc.toJS({ maxAliasCount: 100 }) as unknown);
    } catch (e) {
      const why = e instanceof RangeError ? "nested too deeply" : "too many aliases (a resource exhaustion attack?)";
      return err(inputError(`${file}: not usable YAML: ${why}`));
    }
  }
  return ok(out);
};

const readText = (path: string): ResultAsync<string, InputError> =>
  ResultAsync.fromPromise(readFile(path, "utf8"), (e) => inputError(`cannot read ${path}: ${describeFsError(e)}`));

const describeFsError = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return (e as Error).message;
};

/**
 * Read `--cluster`: a file (a `kubectl get ... -o yaml` List, multi-document YAML, or JSON) or a
 * directory of such files (read in name order, `.yaml`, `.yml`, `.json`, not recursive).
 */
export const loadCluster = (path: string): ResultAsync<unknown[], InputError> =>
  ResultAsync.fromPromise(stat(path), (e) => inputError(`cannot read ${path}: ${describeFsError(e)}`)).andThen((s) => {
    if (!s.isDirectory()) return readText(path).andThen((text) => decodeDocuments(text, path));
    return ResultAsync.fromPromise(readdir(path), (e) =>
      inputError(`cannot read ${path}: ${describeFsError(e)}`),
    ).andThen((names) => {
      const files = names.filter((n) => CLUSTER_EXTENSIONS.has(extname(n))).sort();
      if (files.length === 0) return err(inputError(`${path}: no .yaml, .yml or .json files in this directory`));
      return ResultAsync.combine(
        files.map((f) => readText(join(path, f)).andThen((t) => decodeDocuments(t, join(path, f)))),
      ).map((all) => all.flat());
    });
  });

/** Read and parse `portico.yaml`; every config problem is reported, one per line. */
export const loadConfig = (path: string): ResultAsync<Config, InputError> =>
  readText(path)
    .andThen((text) => decodeDocuments(text, path))
    .andThen((docs) => {
      const real = docs.filter((d) => d !== null && d !== undefined);
      if (real.length !== 1)
        return err(inputError(`${path}: expected one YAML document with the PorticoConfig, found ${real.length}`));
      return parseConfig(real[0]).mapErr((issues) =>
        inputError(`${path}: invalid config:\n  ${formatConfigIssues(issues).split("\n").join("\n  ")}`),
      );
    });

/** The config's LB node named by `--node`, or a message listing the configured ones. */
export const findLbNode = (config: Config, node: string): Result<LbNode, InputError> => {
  const found = config.lbNodes.find((n) => n.name === node);
  return found === undefined
    ? err(
        inputError(
          `--node "${node}" is not an LB node in the config; configured: ${config.lbNodes.map((n) => n.name).join(", ")}`,
        ),
      )
    : ok(found);
};

/** What `render` and `apply` read before planning: the config, the LB node named by `--node`, the cluster. */
export const loadNodeInputs = async (
  configPath: string,
  clusterPath: string,
  node: string,
): Promise<Result<{ config: Config; lbNode: LbNode; documents: unknown[] }, InputError>> => {
  const config = await loadConfig(configPath);
  if (config.isErr()) return err(config.error);
  const lbNode = findLbNode(config.value, node);
  if (lbNode.isErr()) return err(lbNode.error);
  const documents = await loadCluster(clusterPath);
  if (documents.isErr()) return err(documents.error);
  return ok({ config: config.value, lbNode: lbNode.value, documents: documents.value });
};
