// The UDP load tool of the LB CPU benchmark, run in the client namespace: `parallel` requests in
// flight to host:port for `ms` milliseconds (and at most `max` requests), each from a socket of its
// own (a new source port per request, as a DNS resolver asks), waiting at most 500 ms for the
// answer. Prints one JSON line: { ok, failed, ms, userUs } (userUs: its own user CPU time).
// Usage: node udp-load.js <host> <port> <ms> <parallel> <max>
import dgram from "node:dgram";
import { runLoad } from "./_load-run.js";

const [host = "", port = "0", ms = "0", parallel = "1", max = "0"] = process.argv.slice(2);
const result = { ok: 0, failed: 0, ms: 0, userUs: 0 };

const once = (): Promise<void> =>
  new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.close();
      if (ok) result.ok += 1;
      else result.failed += 1;
      resolve();
    };
    const timer = setTimeout(() => done(false), 500);
    sock.once("message", () => done(true));
    sock.once("error", () => done(false));
    sock.send("hello\n", Number(port), host);
  });

await runLoad(result, once, { ms: Number(ms), parallel: Number(parallel), max: Number(max) });
