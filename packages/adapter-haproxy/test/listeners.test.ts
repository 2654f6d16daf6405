import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { foreignListeners, parseProcNetTcp } from "../src/listeners.js";

// The look at an LB node's listening sockets before a reload: /proc/net/tcp{,6} as the kernel
// prints it (addresses hex, each 32-bit word in host byte order), and the real sockets of this
// process.

const HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

describe("listening sockets", () => {
  it("reads LISTEN sockets of /proc/net/tcp and tcp6: the unspecified address is every address", () => {
    const v4 = [
      "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1060 1 0 100 0 0 10 0",
      "   1: 0A6412C6:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2071 1 0 100 0 0 10 0",
      // An established connection and a malformed line are not listeners.
      "   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3000 1 0 100 0 0 10 0",
      "   3: nonsense",
    ].join("\n");
    expect(parseProcNetTcp(HEADER + v4)).toEqual([
      { address: undefined, port: 22, inode: 1060 },
      { address: "198.18.100.10", port: 80, inode: 2071 },
    ]);
    const v6 = [
      "   0: 00000000000000000000000000000000:2382 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41 1 0 100 0 0 10 0",
      "   1: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 42 1 0 100 0 0 10 0",
    ].join("\n");
    expect(parseProcNetTcp(HEADER + v6)).toEqual([
      { address: undefined, port: 9090, inode: 41 },
      { address: "2001:db8::1", port: 80, inode: 42 },
    ]);
  });

  it("with no HAProxy master, finds this process's own listener on a port asked for, and only such ports", async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const taken = await foreignListeners("/nonexistent/master.sock", new Set([port]));
      expect(taken).toEqual([{ port, address: "127.0.0.1", owner: `another program listens on 127.0.0.1:${port}` }]);
      expect(await foreignListeners("/nonexistent/master.sock", new Set([1]))).toEqual([]);
    } finally {
      server.close();
    }
  });
});
