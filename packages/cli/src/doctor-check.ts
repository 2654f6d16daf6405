import type { Config, LbNode } from "@portico/core";
import { runIn } from "@portico/host";

/** How a check of `portico doctor` came out. */
export type Verdict = "OK" | "WARN" | "FAIL";

/** One line of `portico doctor`: what was checked, how it came out, and the fix in one line. */
export interface CheckResult {
  readonly name: string;
  readonly verdict: Verdict;
  readonly detail: string;
  readonly fix?: string;
}

/** Where the doctor looks; tests point these at their own namespace and files. */
export interface DoctorOptions {
  readonly config: Config;
  readonly node: LbNode;
  /** Run `ip` inside this network namespace (tests). */
  readonly netns?: string;
  readonly kubeconfig?: string;
  /** Root of /proc (tests); default /proc. */
  readonly procRoot?: string;
  /** Capture VRRP adverts for this long to find VRID clashes; 0 skips; default 3000. */
  readonly captureMs?: number;
  /** The config file itself, checked for the packaged example's marker line. */
  readonly configPath?: string;
}

/** checkResult is one doctor line; `fix` only when there is something to do. */
export const checkResult = (verdict: Verdict, name: string, detail: string, fix?: string): CheckResult => ({
  name,
  verdict,
  detail,
  ...(fix === undefined ? {} : { fix }),
});

/** inNs runs a program where the doctor looks: here, or inside `opts.netns` (tests). */
export const inNs = (opts: DoctorOptions, command: string, args: readonly string[]) =>
  runIn(opts.netns, command, args, { timeoutMs: 15_000 });
