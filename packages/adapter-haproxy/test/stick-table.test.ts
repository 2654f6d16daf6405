import { createConnection } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { applyHaproxy } from "@portico/adapter-haproxy";
import { describeWith, program, root } from "@portico/testkit";
import { CLIENT_ADDRESSES, DataplaneLab, NODES, type LabService } from "./lab/lab.js";

// sessionAffinity: ClientIP on real HAProxy: the stick table that keeps a client on its node
// survives a reload, handed by the old worker to the new one through the local peer.

const BACKEND = "be_lab_web_80_4";
const sticky: LabService = { servers: { node1: 1, node2: 1, node3: 1 }, affinitySeconds: 600 };

/** One command on the stats socket, its whole answer. */
const ask = (socket: string, command: string): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = "";
    const c = createConnection(socket);
    c.setTimeout(5000, () => c.destroy(new Error(`${command} timed out`)));
    c.on("connect", () => c.end(`${command}\n`));
    c.on("data", (b: Buffer) => (text += b.toString()));
    c.on("error", reject);
    c.on("close", () => resolve(text));
  });

/** `show table`: each entry's key and server_id. */
const entriesOf = (text: string) =>
  [...text.matchAll(/ key=(\S+) .*server_id=(\d+)/g)].map((m) => ({ key: m[1]!, serverId: m[2]! }));

/**
 * Whether the running worker has finished its own start-up sync (`show peers` flags 0x3): a
 * worker teaches a newer one only after that, about 3 s (HAProxy's resync timeout) after it
 * started without an older worker to learn from.
 */
const synced = async (socket: string): Promise<boolean> => {
  const flags = /id=portico .*?flags=0x([0-9a-f]+)/.exec(await ask(socket, "show peers"))?.[1];
  return flags !== undefined && (parseInt(flags, 16) & 0x3) === 0x3;
};

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), root],
  "ClientIP stick tables across a reload",
  () => {
    const lab = new DataplaneLab();

    beforeAll(async () => {
      await lab.upServing(sticky, NODES);
    }, 60_000);
    afterAll(async () => {
      await lab.down();
    }, 30_000);

    it("keeps a client on its node, and its stick table entry, through a reload", async () => {
      const socket = `${lab.dir}/admin.sock`;
      const before = await lab.traffic(20, 10_000, 2, 80, CLIENT_ADDRESSES[0]);
      expect(before.failed).toBe(0);
      const nodes = Object.keys(before.byNode);
      expect(nodes).toHaveLength(1);
      const entries = entriesOf(await ask(socket, `show table ${BACKEND}`));
      expect(entries.map((e) => e.key)).toEqual([CLIENT_ADDRESSES[0]]);
      const syncMs = await lab.until(() => synced(socket), 10_000);

      // A new port is a new frontend: the file changes shape and HAProxy reloads.
      const report = (await applyHaproxy(lab.plan({ ...sticky, extraPorts: [8081] })))._unsafeUnwrap();
      expect(report.action).toBe("reload");
      let seen: { key: string; serverId: string }[] = [];
      const handedMs = await lab.until(
        async () => (seen = entriesOf(await ask(socket, `show table ${BACKEND}`))).length > 0,
        5_000,
      );
      expect(seen).toEqual(entries);
      const after = await lab.traffic(20, 10_000, 2, 80, CLIENT_ADDRESSES[0]);
      expect(after.failed).toBe(0);
      expect(Object.keys(after.byNode)).toEqual(nodes);
      process.stdout.write(
        `[stick-table] ${CLIENT_ADDRESSES[0]} stuck to ${nodes[0]} before and after a reload (${report.durationMs} ms); ` +
          `first worker synced ${syncMs} ms after the traffic, entry ${JSON.stringify(entries[0])} in the new worker ${handedMs} ms after the reload\n`,
      );
    }, 60_000);
  },
);
