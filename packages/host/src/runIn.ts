import { errAsync, type ResultAsync } from "neverthrow";
import { run, type RunError, type RunOptions, type RunOutput } from "./run.js";

// A name reaches `ip` as one argument, but a leading '-' would still read as an option.
const NETNS = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/** isNetnsName: whether `name` can be given to `ip netns exec` as a namespace name. */
export const isNetnsName = (name: string): boolean => NETNS.test(name);

/**
 * runIn runs `command` as {@link run} does: here when `netns` is undefined, else inside that
 * network namespace (`ip netns exec <netns> <command> ...`). A name `ip` could read as an option
 * fails without starting anything.
 */
export const runIn = (
  netns: string | undefined,
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): ResultAsync<RunOutput, RunError> => {
  if (netns === undefined) return run(command, args, options);
  if (!isNetnsName(netns))
    return errAsync({ kind: "spawn", command, message: `${JSON.stringify(netns)} is not a network namespace name` });
  return run("ip", ["netns", "exec", netns, command, ...args], options);
};
