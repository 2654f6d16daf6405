import { err, ok, type Result, type ResultAsync } from "neverthrow";
import type { AdapterError } from "@portico/core";
import { sendCommands, type SendOptions } from "./runtime.js";

/** A server's state as an operator reads it: serving, failing its checks, draining, or taken out. */
export type ServerState = "UP" | "DOWN" | "DRAIN" | "MAINT";

/** The last health check of a server, as HAProxy reports it. */
export interface CheckResult {
  /** HAProxy's check status: `L7OK`, `L7STS`, `L4CON`, `L4TOUT`, `L7RSP`, `INI` ... */
  readonly status: string;
  /** The HTTP status of an HTTP check, when there was one. */
  readonly code?: number;
  readonly durationMs?: number;
}

/** One row of `show stat`: a frontend, a backend, or a server. */
export interface StatRow {
  readonly proxy: string;
  /** `FRONTEND`, `BACKEND`, or the server's name. */
  readonly name: string;
  readonly type: "frontend" | "backend" | "server" | "listener";
  /** HAProxy's status text as it is (`OPEN`, `UP`, `UP 1/2`, `DOWN`, `MAINT`, `DRAIN`, `no check` ...). */
  readonly status: string;
  /** Servers only: the status folded into {@link ServerState}. */
  readonly state?: ServerState;
  readonly weight?: number;
  /** Current sessions. */
  readonly sessions: number;
  /** Servers with a check of their own (tracking servers have none). */
  readonly check?: CheckResult;
  /** Servers only: `address:port` as HAProxy runs it now. */
  readonly address?: string;
  /** Servers that track another's state: `backend/server`. */
  readonly tracks?: string;
}

const TYPES = ["frontend", "backend", "server", "listener"] as const;

/** Fold HAProxy's status text (with its transitions like `UP 1/2`, `MAINT (via x/y)`) into a state. */
export const serverState = (status: string): ServerState => {
  if (status.startsWith("MAINT")) return "MAINT";
  if (status.startsWith("DRAIN") || status.startsWith("NOLB")) return "DRAIN";
  // "UP 1/2" is still serving while it goes down; "no check" serves unchecked.
  if (status.startsWith("UP") || status === "no check") return "UP";
  return "DOWN";
};

const int = (text: string | undefined): number | undefined =>
  text !== undefined && /^[0-9]{1,12}$/.test(text) ? Number(text) : undefined;

/**
 * Parse the CSV that `show stat` answers: a `# pxname,svname,...` header, then one row per
 * frontend, backend and server. Columns are found by name, so added columns in later HAProxy
 * versions change nothing.
 */
export const parseShowStat = (text: string): Result<readonly StatRow[], string> => {
  const lines = text.split("\n").filter((l) => l !== "");
  const header = lines[0];
  if (header === undefined || !header.startsWith("# pxname,svname,"))
    return err(`not a show stat answer: ${JSON.stringify(text.slice(0, 80))}`);
  const columns = header.slice(2).split(",");
  const at = (name: string): number => columns.indexOf(name);
  const want = {
    px: at("pxname"),
    sv: at("svname"),
    scur: at("scur"),
    status: at("status"),
    weight: at("weight"),
    type: at("type"),
    cs: at("check_status"),
    cc: at("check_code"),
    cd: at("check_duration"),
    addr: at("addr"),
    tracked: at("tracked"),
  };
  if (want.px < 0 || want.sv < 0 || want.status < 0 || want.type < 0)
    return err("show stat answer lacks pxname, svname, status or type");
  const rows: StatRow[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    const get = (i: number): string | undefined => (i < 0 ? undefined : f[i]);
    const type = TYPES[int(get(want.type)) ?? -1];
    if (type === undefined) continue;
    const status = get(want.status) ?? "";
    const checkStatus = (get(want.cs) ?? "").replace(/^\* /, "");
    // While a check runs HAProxy may print code 0: only a real HTTP status is a code.
    const rawCode = int(get(want.cc));
    const code = rawCode !== undefined && rawCode >= 100 && rawCode <= 599 ? rawCode : undefined;
    const duration = int(get(want.cd));
    const weight = int(get(want.weight));
    const address = get(want.addr);
    const tracks = get(want.tracked);
    rows.push({
      proxy: get(want.px) ?? "",
      name: get(want.sv) ?? "",
      type,
      status,
      ...(type === "server" ? { state: serverState(status) } : {}),
      ...(weight === undefined ? {} : { weight }),
      sessions: int(get(want.scur)) ?? 0,
      ...(type === "server" && checkStatus !== ""
        ? {
            check: {
              status: checkStatus,
              ...(code === undefined ? {} : { code }),
              ...(duration === undefined ? {} : { durationMs: duration }),
            },
          }
        : {}),
      ...(type === "server" && address !== undefined && address !== "" ? { address } : {}),
      ...(type === "server" && tracks !== undefined && tracks !== "" ? { tracks } : {}),
    });
  }
  return ok(rows);
};

/** Read `show stat` from a stats socket: every frontend, backend and server, parsed. */
export const readStats = (socket: string, options: SendOptions = {}): ResultAsync<readonly StatRow[], AdapterError> =>
  sendCommands(socket, [{ kind: "show-stat" }], options).andThen((answers) =>
    parseShowStat(answers[0] ?? "").mapErr((message): AdapterError => ({
      kind: "apply",
      adapter: "haproxy",
      message: `stats socket ${socket}: ${message}`,
    })),
  );
