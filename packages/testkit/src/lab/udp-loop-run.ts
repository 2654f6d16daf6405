import { start, type Started } from "@portico/host";
import { waitForLine } from "../wait.js";
import { UDP_LOOP_BIN, type UdpLoopResult } from "./programs.js";

/** What {@link udpLoop} asks the lab's UDP loop for (see {@link UDP_LOOP_BIN}). */
export interface UdpLoopOptions {
  /** `fresh`: a new socket per request, the source ports cycling from `firstPort`; `one`: one socket. */
  readonly mode: "fresh" | "one";
  readonly firstPort: number;
  /** How many source ports `fresh` cycles through. */
  readonly ports: number;
  /** A request every this many ms. */
  readonly intervalMs: number;
  /** How long each request waits for its answer. */
  readonly timeoutMs: number;
  /** At most this many requests. */
  readonly maxCount: number;
  /** At most this long. */
  readonly maxMs: number;
  /** What to wait for before resolving: the loop `started` sending, or `ready` (its first answer). */
  readonly waitFor: "started" | "ready";
  /** How long to wait for it (default 20 s). */
  readonly capMs?: number;
}

/** A UDP loop running in a client namespace. */
export interface UdpLoop {
  readonly proc: Started;
  /** Its report once it has ended; a loop that ended without one (killed) reads as one that got no answer. */
  readonly done: Promise<UdpLoopResult>;
  /** Tell the loop to stop, and resolve with its report. */
  stop(): Promise<UdpLoopResult>;
}

const NO_ANSWER: UdpLoopResult = { sent: 0, late: 0, pushes: [], answers: [] };

/** udpLoop starts the lab's UDP request/response loop in namespace `ns` against host:port. */
export const udpLoop = async (ns: string, host: string, port: number, o: UdpLoopOptions): Promise<UdpLoop> => {
  const bounds = [o.firstPort, o.ports, o.intervalMs, o.timeoutMs, o.maxCount, o.maxMs].map(String);
  const args = ["netns", "exec", ns, process.execPath, UDP_LOOP_BIN, host, String(port), o.mode, ...bounds];
  const proc = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
  let out = "";
  proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  const done = proc.exited.then((): UdpLoopResult => {
    try {
      return JSON.parse(out.trim().split("\n").pop() ?? "") as UdpLoopResult;
    } catch {
      return NO_ANSWER;
    }
  });
  try {
    await waitForLine(proc, o.waitFor, o.capMs);
  } catch (e) {
    await proc.stop("SIGKILL");
    throw e;
  }
  return {
    proc,
    done,
    stop() {
      proc.stdin!.write("stop\n");
      return done;
    },
  };
};
