import { randomBytes } from "node:crypto";
import { addInterface, createNamespace, deleteNamespace, run } from "@portico/host";

/**
 * A set of network namespaces owned by one test run. Names carry a per-run prefix
 * (`pt<pid><random>-`) so parallel runs never collide; `destroy()` removes every namespace the lab
 * made, and is safe to call twice and after a failure.
 */
export class NetnsLab {
  readonly prefix: string;
  readonly #made: string[] = [];

  constructor() {
    this.prefix = `pt${process.pid.toString(36)}${randomBytes(2).toString("hex")}-`;
  }

  /** Create a namespace `<prefix><name>` with loopback up; returns its full name. */
  async add(name: string): Promise<string> {
    const full = `${this.prefix}${name}`;
    if (full.length > 60 || !/^[a-z0-9-]+$/.test(full)) throw new Error(`bad namespace name ${full}`);
    const made = await createNamespace(full);
    if (made.isErr()) throw new Error(made.error.message);
    this.#made.push(full);
    return full;
  }

  /** Add an interface called `name` to a namespace (dummy, or veth where the kernel has no dummy). */
  async addInterface(ns: string, name: string): Promise<void> {
    const r = await addInterface(ns, name);
    if (r.isErr()) throw new Error(r.error.message);
  }

  /** Run a program inside a namespace (argument array, no shell). */
  exec(ns: string, command: string, args: readonly string[], timeoutMs = 30_000) {
    return run("ip", ["netns", "exec", ns, command, ...args], { timeoutMs });
  }

  /** Remove every namespace this lab made (their interfaces go with them). */
  async destroy(): Promise<void> {
    for (const ns of this.#made.splice(0).reverse()) await deleteNamespace(ns);
  }
}

/** Run a command and throw (test set-up only) when it fails. */
export const must = async (command: string, args: readonly string[], timeoutMs = 30_000): Promise<string> => {
  const r = await run(command, args, { timeoutMs });
  if (r.isErr()) throw new Error(r.error.message);
  if (r.value.code !== 0)
    throw new Error(`${command} ${args.join(" ")} exited ${r.value.code}: ${r.value.stderr.trim()}`);
  return r.value.stdout;
};
