import pkg from "../package.json" with { type: "json" };

// The single-file build (scripts/package.mjs) defines these; other builds leave them undefined.
declare const __PORTICO_COMMIT__: string | undefined;
declare const __PORTICO_BUILD__: string | undefined;

/** BuildInfo: what `portico --version` reports. */
export interface BuildInfo {
  readonly version: string;
  /** The git commit the single-file build was made from; "unknown" for other builds. */
  readonly commit: string;
  /** How this copy was built: "workspace" (tsup, run by Node) or "single executable linux-x64". */
  readonly build: string;
}

/** buildInfo: the version from package.json and, when stamped at bundle time, the commit and kind of build. */
export const buildInfo: BuildInfo = {
  version: pkg.version,
  commit: typeof __PORTICO_COMMIT__ === "string" ? __PORTICO_COMMIT__ : "unknown",
  build: typeof __PORTICO_BUILD__ === "string" ? __PORTICO_BUILD__ : "workspace",
};

/** versionLine: one line, `portico <version> (commit <sha>, <build>)`. */
export const versionLine = (info: BuildInfo = buildInfo): string =>
  `portico ${info.version} (commit ${info.commit}, ${info.build})\n`;
