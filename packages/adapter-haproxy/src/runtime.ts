import { createConnection } from "node:net";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import { match } from "ts-pattern";
import type { AdapterError, Ip, Port } from "@portico/core";
import { guardIdent, guardInt, guardIp, guardOneOf, guardPath, guardPort, show } from "./_guards.js";
import { SLOT_NAME } from "./_serverLine.js";

/**
 * A command for HAProxy's runtime API (the stats socket) or its master CLI. A closed set: every
 * field is re-checked (identifier, parsed IP, port, bounded number, keyword) before it is
 * written to a socket, so no text from outside can add a second command (`;`, newline).
 */
export type RuntimeCommand =
  | {
      readonly kind: "set-addr";
      readonly backend: string;
      readonly server: string;
      readonly address: Ip;
      readonly port: Port;
    }
  | { readonly kind: "set-weight"; readonly backend: string; readonly server: string; readonly weight: number }
  | {
      readonly kind: "set-state";
      readonly backend: string;
      readonly server: string;
      readonly state: "ready" | "drain" | "maint";
    }
  | {
      readonly kind: "set-health";
      readonly backend: string;
      readonly server: string;
      readonly health: "up" | "stopping" | "down";
    }
  /** Every backend when `backend` is absent. */
  | { readonly kind: "show-servers-state"; readonly backend?: string }
  | { readonly kind: "show-info" }
  /** Every proxy and server with its state, weight, sessions and last check (CSV). */
  | { readonly kind: "show-stat" }
  /** Master CLI only. */
  | { readonly kind: "show-proc" }
  /** Master CLI only: re-execute the master, which starts new workers on the file as it is now. */
  | { readonly kind: "reload" };

/** The text of one command, or why it cannot be sent. */
export const formatCommand = (c: RuntimeCommand): Result<string, string> => {
  const target = (backend: string, server: string): Result<string, string> =>
    guardIdent(backend).andThen((b) =>
      SLOT_NAME.test(server) ? ok(`${b}/${server}`) : err(`${show(server)} is not a server slot name`),
    );
  return match(c)
    .with({ kind: "set-addr" }, (x) =>
      target(x.backend, x.server).andThen((t) =>
        guardIp(x.address).andThen((a) => guardPort(x.port).map((p) => `set server ${t} addr ${a} port ${p}`)),
      ),
    )
    .with({ kind: "set-weight" }, (x) =>
      target(x.backend, x.server).andThen((t) => guardInt(x.weight, 0, 256).map((w) => `set server ${t} weight ${w}`)),
    )
    .with({ kind: "set-state" }, (x) =>
      target(x.backend, x.server).andThen((t) =>
        guardOneOf(x.state, ["ready", "drain", "maint"] as const).map((s) => `set server ${t} state ${s}`),
      ),
    )
    .with({ kind: "set-health" }, (x) =>
      target(x.backend, x.server).andThen((t) =>
        guardOneOf(x.health, ["up", "stopping", "down"] as const).map((h) => `set server ${t} health ${h}`),
      ),
    )
    .with({ kind: "show-servers-state" }, (x) =>
      x.backend === undefined ? ok("show servers state") : guardIdent(x.backend).map((b) => `show servers state ${b}`),
    )
    .with({ kind: "show-info" }, () => ok("show info"))
    .with({ kind: "show-stat" }, () => ok("show stat"))
    .with({ kind: "show-proc" }, () => ok("show proc"))
    .with({ kind: "reload" }, () => ok("reload"))
    .exhaustive();
};

/** Whether a command's answer means it worked. HAProxy answers nothing, or a "changed" note. */
export const succeeded = (c: RuntimeCommand, answer: string): boolean =>
  match(c)
    .with({ kind: "set-addr" }, () => answer === "" || /^(IP changed|no need to change)/.test(answer))
    .with({ kind: "set-weight" }, { kind: "set-state" }, { kind: "set-health" }, () => answer === "")
    .with(
      { kind: "show-servers-state" },
      { kind: "show-info" },
      { kind: "show-stat" },
      { kind: "show-proc" },
      { kind: "reload" },
      () => true,
    )
    .exhaustive();

/** Options for {@link sendCommands}. */
export interface SendOptions {
  /** Give up after this long. Default 5 s. */
  readonly timeoutMs?: number;
}

/**
 * Send commands to a stats socket in one connection (the CLI's interactive `prompt` mode, one
 * command per line) and return one answer per command, in order. Every command is checked by
 * {@link formatCommand} first; nothing is sent when one fails. The answers are returned as they
 * are: {@link succeeded} judges them.
 */
export const sendCommands = (
  socket: string,
  commands: readonly RuntimeCommand[],
  options: SendOptions = {},
): ResultAsync<readonly string[], AdapterError> => {
  const lines: string[] = [];
  for (const c of commands) {
    const line = formatCommand(c);
    if (line.isErr())
      return errAsync({ kind: "apply", adapter: "haproxy", message: `runtime API command ${c.kind}: ${line.error}` });
    lines.push(line.value);
  }
  if (lines.length === 0) return new ResultAsync(Promise.resolve(ok([])));
  return exchange(socket, `prompt\n${lines.join("\n")}\nquit\n`, options.timeoutMs ?? 5_000).andThen((raw) => {
    // In prompt mode every answer, the empty one of `prompt` itself included, ends with "\n> ".
    const parts = raw.split("\n> ");
    const answers = parts.slice(1, 1 + lines.length);
    if (answers.length !== lines.length) {
      return err<readonly string[], AdapterError>({
        kind: "apply",
        adapter: "haproxy",
        message: `runtime API at ${socket}: ${answers.length} answers for ${lines.length} commands: ${show(raw)}`,
      });
    }
    return ok(answers.map((a) => a.replace(/\n+$/, "")));
  });
};

/**
 * Send one command to a master CLI (or stats) socket on its own connection and return the
 * answer. The master CLI closes the connection after a non-interactive command, and `reload`
 * answers nothing (the master re-executes itself).
 */
export const sendCommand = (
  socket: string,
  command: RuntimeCommand,
  options: SendOptions = {},
): ResultAsync<string, AdapterError> => {
  const line = formatCommand(command);
  if (line.isErr())
    return errAsync({ kind: "apply", adapter: "haproxy", message: `command ${command.kind}: ${line.error}` });
  return exchange(socket, `${line.value}\n`, options.timeoutMs ?? 5_000, true).map((a) => a.replace(/\n+$/, ""));
};

const errAsync = <T>(e: AdapterError): ResultAsync<T, AdapterError> => new ResultAsync(Promise.resolve(err(e)));

// `halfClose` ends our side after the text: the master CLI answers a single command and then waits
// for more until the client closes; the prompt-mode batch ends with `quit` instead.
const exchange = (
  socket: string,
  text: string,
  timeoutMs: number,
  halfClose = false,
): ResultAsync<string, AdapterError> => {
  const path = guardPath(socket);
  if (path.isErr()) return errAsync({ kind: "apply", adapter: "haproxy", message: `socket path: ${path.error}` });
  return ResultAsync.fromPromise(
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const conn = createConnection(path.value);
      const timer = setTimeout(() => conn.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      conn.on("connect", () => (halfClose ? conn.end(text) : conn.write(text)));
      conn.on("data", (b: Buffer) => chunks.push(b));
      conn.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      conn.on("close", (hadError) => {
        clearTimeout(timer);
        if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
      });
    }),
    (e): AdapterError => {
      const code = (e as NodeJS.ErrnoException).code;
      const hint =
        code === "ENOENT"
          ? "is haproxy running with this stats socket / master CLI (-S) path?"
          : code === "ECONNREFUSED"
            ? "the socket exists but nothing accepts on it: haproxy is restarting or stuck; retry"
            : code === "EACCES"
              ? "run as root or as a member of the socket's group (stats socket ... mode 660)"
              : undefined;
      return {
        // Only a socket that does not exist means nothing runs; a refused one is an error to retry.
        kind: code === "ENOENT" ? "unavailable" : "apply",
        adapter: "haproxy",
        message: `haproxy socket ${path.value}: ${(e as Error).message}`,
        ...(hint === undefined ? {} : { hint }),
      };
    },
  );
};
