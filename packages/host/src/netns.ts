import { isInterfaceName } from "@portico/core";
import { err, ok, ResultAsync } from "neverthrow";
import { run } from "./run.js";

/** Why a network-namespace operation failed. */
export interface NetnsError {
  readonly kind: "netns";
  readonly message: string;
}

// Names reach `ip` as single arguments, but a leading '-' would still read as an option.
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,59}$/;
const OPTION_SAFE = /^[A-Za-z0-9_]/;
const isLinkName = (name: string): boolean => isInterfaceName(name) && OPTION_SAFE.test(name);

const ip = (args: readonly string[]): ResultAsync<string, NetnsError> =>
  run("ip", args, { timeoutMs: 15_000 })
    .mapErr((e): NetnsError => ({
      kind: "netns",
      message: e.code === "ENOENT" ? "ip is not installed (apt-get install -y iproute2)" : e.message,
    }))
    .andThen((r) =>
      r.code === 0
        ? ok(r.stdout)
        : err<string, NetnsError>({
            kind: "netns",
            message: `ip ${args.join(" ")}: ${r.stderr.trim() || `exit ${r.code}`}`,
          }),
    );

/** Create a network namespace with its loopback up. Needs root (CAP_SYS_ADMIN). */
export const createNamespace = (name: string): ResultAsync<void, NetnsError> =>
  NAME.test(name)
    ? ip(["netns", "add", name])
        .andThen(() => ip(["-n", name, "link", "set", "lo", "up"]))
        .map(() => undefined)
    : new ResultAsync(
        Promise.resolve(err<void, NetnsError>({ kind: "netns", message: `"${name}" is not a namespace name` })),
      );

/** Delete a network namespace, ending any process still inside it first; never fails. */
export const deleteNamespace = async (name: string): Promise<void> => {
  if (!NAME.test(name)) return;
  const pids = await ip(["netns", "pids", name]);
  if (pids.isOk()) {
    for (const pid of pids.value.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  await ip(["netns", "del", name]);
};

/**
 * Give a namespace an interface with this name: a dummy link, or, on kernels built without the
 * dummy type, one end of a veth pair whose peer (`<name>p`, or a short generated name) stays in
 * the same namespace.
 */
export const addInterface = (ns: string, name: string): ResultAsync<void, NetnsError> => {
  if (!NAME.test(ns) || !isLinkName(name)) {
    return new ResultAsync(
      Promise.resolve(
        err<void, NetnsError>({ kind: "netns", message: `bad namespace or interface name "${ns}" / "${name}"` }),
      ),
    );
  }
  const peer = name.length < 15 ? `${name}p` : `p${name.slice(1)}`;
  return ip(["-n", ns, "link", "add", name, "type", "dummy"])
    .orElse(() => ip(["-n", ns, "link", "add", name, "type", "veth", "peer", "name", peer]))
    .andThen(() => ip(["-n", ns, "link", "set", name, "up"]))
    .map(() => undefined);
};
