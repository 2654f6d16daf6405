import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join, basename } from "node:path";
import { ResultAsync } from "neverthrow";

/** Why a file could not be written. */
export interface FileError {
  readonly kind: "io";
  readonly path: string;
  readonly message: string;
}

/** Options for {@link writeFileAtomic}. */
export interface WriteOptions {
  /** File mode; default 0o644. */
  readonly mode?: number;
  /** Create missing parent directories; default false. */
  readonly mkdirs?: boolean;
}

/**
 * Write a file so that readers see the old contents or the new, never a mix: write a temporary
 * file beside it, fsync, then rename over the target (atomic on one filesystem).
 */
export const writeFileAtomic = (
  path: string,
  contents: string,
  options: WriteOptions = {},
): ResultAsync<void, FileError> =>
  ResultAsync.fromPromise(
    (async () => {
      const dir = dirname(path);
      if (options.mkdirs === true) await mkdir(dir, { recursive: true });
      const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        const fh = await open(tmp, "wx", options.mode ?? 0o644);
        try {
          await fh.writeFile(contents, "utf8");
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    })(),
    (e): FileError => ({ kind: "io", path, message: `${path}: ${(e as Error).message}` }),
  );

/** readTextIfAny: a file's text, or undefined when it cannot be read (absent, unreadable): "nothing installed yet". */
export const readTextIfAny = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
};
