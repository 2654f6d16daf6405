// The load tool of the data-plane overhead benchmark, run in the client namespace: `parallel`
// connections at a time to host:port for `ms` milliseconds (and at most `max` connections); each
// sends a line and reads the fake node's answer to the end. Prints one JSON line:
// { ok, failed, ms, userUs, errors } (userUs: its own user CPU time, microseconds).
// Usage: node load.js <host> <port> <ms> <parallel> <max>
import net from "node:net";
import { runLoad } from "./_load-run.js";

const [host = "", port = "0", ms = "0", parallel = "1", max = "0"] = process.argv.slice(2);
const result = { ok: 0, failed: 0, ms: 0, userUs: 0, errors: [] as string[] };

const once = (): Promise<void> =>
  new Promise((resolve) => {
    const sock = net.createConnection({ host, port: Number(port) });
    let got = 0;
    const timer = setTimeout(() => sock.destroy(new Error("timeout after 2000 ms")), 2000);
    sock.on("connect", () => sock.write("hello\n"));
    sock.on("data", (d) => (got += d.length));
    sock.on("error", (e) => {
      clearTimeout(timer);
      result.failed += 1;
      if (result.errors.length < 5) result.errors.push(e.message);
      resolve();
    });
    sock.on("close", (hadError) => {
      clearTimeout(timer);
      if (hadError) return;
      if (got > 0) result.ok += 1;
      else {
        result.failed += 1;
        if (result.errors.length < 5) result.errors.push("closed without an answer");
      }
      resolve();
    });
  });

await runLoad(result, once, { ms: Number(ms), parallel: Number(parallel), max: Number(max) });
