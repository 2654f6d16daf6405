import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith, fakeTree, must, NetnsLab, program, root, type Requirement } from "@portico/testkit";
import { main, type Io } from "../src/index.js";

const bin = resolve(import.meta.dirname, "../dist/bin.js");

const configText = (iface: string, tuning = "") => `apiVersion: portico.dev/v1alpha1
kind: PorticoConfig
pools:
  - name: default
    addresses: ["198.18.100.10-198.18.100.50"]
lbNodes:
  - { name: lb1, address: 198.18.1.1, interface: ${iface} }
  - { name: lb2, address: 198.18.1.2, interface: ${iface} }
${tuning}`;

const portico = async (...argv: string[]) => {
  let stdout = "";
  let stderr = "";
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, cwd: "/" };
  const code = await main(argv, io);
  return { code, stdout, stderr };
};

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-tune-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const text = (path: string) => readFile(path, "utf8").then((t) => t.trim());

describe("portico tune on a fake /sys and /proc", () => {
  it("plans from the tree, writes what differs, reads it back, and warns about irqbalance", async () => {
    const roots = await fakeTree(join(dir, "vm"), {
      possible: "0-5",
      online: "0-5",
      nics: [
        {
          name: "ens3",
          rx: 2,
          tx: 2,
          irqs: [
            [40, "0"],
            [41, "1"],
          ],
        },
      ],
      irqbalance: true,
    });
    const config = join(dir, "vm.yaml");
    await writeFile(config, configText("ens3", 'tuning:\n  irqAffinity: spread\n  excludeCpus: "5"\n'));
    const args = [
      "tune",
      "--config",
      config,
      "--node",
      "lb1",
      "--sysfs-root",
      roots.sysRoot,
      "--procfs-root",
      roots.procRoot,
    ];

    const dry = await portico(...args, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would set     ${roots.sysRoot}/class/net/ens3/queues/rx-0/rps_cpus: 0 -> 1c`);
    expect(dry.stdout).toContain("9 planned writes: 9 would change, 0 already set");
    expect(await text(`${roots.sysRoot}/class/net/ens3/queues/rx-0/rps_cpus`)).toBe("0");

    const r = await portico(...args);
    expect(r.code).toBe(0);
    // IRQs pinned to CPUs 0 and 1; RPS keeps off them, and off the excluded CPU 5.
    expect(await text(`${roots.procRoot}/irq/40/smp_affinity_list`)).toBe("0");
    expect(await text(`${roots.procRoot}/irq/41/smp_affinity_list`)).toBe("1");
    expect(await text(`${roots.sysRoot}/class/net/ens3/queues/rx-1/rps_cpus`)).toBe("1c");
    expect(await text(`${roots.sysRoot}/class/net/ens3/queues/rx-1/rps_flow_cnt`)).toBe("16384");
    expect(await text(`${roots.sysRoot}/class/net/ens3/queues/tx-0/xps_cpus`)).toBe("03");
    expect(await text(`${roots.sysRoot}/class/net/ens3/queues/tx-1/xps_cpus`)).toBe("1c");
    expect(await text(`${roots.procRoot}/sys/net/core/rps_sock_flow_entries`)).toBe("32768");
    expect(r.stdout).toContain("9 planned writes: 9 changed, 0 already set, 0 failed");
    expect(r.stdout).toContain('IRQBALANCE_ARGS="--banirq=40 --banirq=41"');
    expect(r.stderr).toBe(
      "portico: warning: irqbalance is running; it may move the interface's interrupts and override the IRQ side of this tuning\n",
    );

    const again = await portico(...args);
    expect(again.stdout).toContain("9 planned writes: 0 changed, 9 already set, 0 failed");
  });

  it.each([
    [["tune", "--config", "/x.yaml"], "portico: tune needs --node <lbNode>\n"],
    [
      ["tune", "--node", "lb1", "--bogus"],
      "portico: tune: unknown option '--bogus'; tune takes --config, --node, --dry-run, --sysfs-root, --procfs-root (see portico tune --help)\n",
    ],
  ])("exits 2 with one clear line for %j", async (argv, message) => {
    const r = await portico(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(message);
  });

  it("exits 2 naming the problem when the tree is not a sysfs tree or the node is unknown", async () => {
    const config = join(dir, "plain.yaml");
    await writeFile(config, configText("eth0"));
    const noTree = await portico(
      "tune",
      "--config",
      config,
      "--node",
      "lb1",
      "--sysfs-root",
      join(dir, "nothing"),
      "--procfs-root",
      join(dir, "nothing"),
    );
    expect(noTree.code).toBe(2);
    expect(noTree.stderr).toContain(`${join(dir, "nothing")}/devices/system/cpu/possible does not exist`);
    const noNode = await portico("tune", "--config", config, "--node", "lb9");
    expect(noNode.stderr).toBe('portico: --node "lb9" is not an LB node in the config; configured: lb1, lb2\n');
  });
});

describe("portico render with a declared topology", () => {
  const root = resolve(import.meta.dirname, "../../..");
  const cluster = join(root, "examples/quickstart/cluster.yaml");

  it("writes tuning.json with the planned writes for that node, and none for a node without one", async () => {
    const config = join(dir, "declared.yaml");
    const odd = Array.from({ length: 20 }, (_, i) => 2 * i + 1);
    await writeFile(
      config,
      configText(
        "eth0",
        `tuning:\n  topologies:\n    - { node: lb1, cpus: "0-39", numaNodes: ["${odd.map((c) => c - 1).join(",")}", "${odd.join(",")}"], rxQueues: 4, txQueues: 4, numaNode: 1, irqs: [{ irq: 120, cpus: "1" }, { irq: 121, cpus: "3" }, { irq: 122, cpus: "5" }, { irq: 123, cpus: "7" }] }\n`,
      ),
    );
    const out = join(dir, "render-lb1");
    const r = await portico("render", "--cluster", cluster, "--config", config, "--node", "lb1", "--out", out);
    expect(r.stdout).toContain(`wrote ${join(out, "tuning.json")}`);
    const tuning = JSON.parse(await readFile(join(out, "tuning.json"), "utf8")) as {
      kind: string;
      node: string;
      writes: { kind: string; value: string; reason: string }[];
    };
    expect(tuning.kind).toBe("TuningPlan");
    expect(tuning.node).toBe("lb1");
    expect(tuning.writes.filter((w) => w.kind === "rps_cpus").map((w) => w.value)).toEqual([
      "aa,aaaaaa00",
      "aa,aaaaaa00",
      "aa,aaaaaa00",
      "aa,aaaaaa00",
    ]);
    expect(tuning.writes[0]).toMatchObject({ kind: "rps_sock_flow_entries", value: "32768" });

    const out2 = join(dir, "render-lb2");
    const r2 = await portico("render", "--cluster", cluster, "--config", config, "--node", "lb2", "--out", out2);
    expect(r2.stdout).not.toContain("tuning.json");
    await expect(readFile(join(out2, "tuning.json"), "utf8")).rejects.toThrow(/ENOENT/);
  });
});

await describeWith([program("ip", ["-V"]), root], "portico tune on a real veth in a network namespace", () => {
  const lab = new NetnsLab();
  let ns = "";
  let hostEntries = "";
  beforeAll(async () => {
    hostEntries = await text("/proc/sys/net/core/rps_sock_flow_entries");
    ns = await lab.add("tune");
    await lab.addInterface(ns, "lbt0");
  });
  afterAll(async () => {
    await lab.destroy();
  });

  it("writes rx-0's rps_cpus and rps_flow_cnt, reads them back, and leaves the host's RFS table alone", async () => {
    const config = join(dir, "veth.yaml");
    // rps: always, so the test does not depend on how many CPUs the machine has.
    await writeFile(config, configText("lbt0", "tuning:\n  rps: always\n  rpsSockFlowEntries: 4096\n"));
    const r = (
      await lab.exec(ns, process.execPath, [bin, "tune", "--config", config, "--node", "lb1"])
    )._unsafeUnwrap();
    process.stdout.write(r.stdout);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("lbt0: 1 rx / 1 tx queues, NUMA node unknown, 0 queue interrupts");
    expect(r.stdout).toMatch(/set {11}\/sys\/class\/net\/lbt0\/queues\/rx-0\/rps_cpus: 0 -> [0-9a-f,]+\n/);
    expect(r.stdout).toContain("set           /sys/class/net/lbt0/queues/rx-0/rps_flow_cnt: 0 -> 4096");
    expect(r.stdout).toContain("not present   /proc/sys/net/core/rps_sock_flow_entries does not exist");

    const cat = async (file: string) =>
      (await lab.exec(ns, "cat", [`/sys/class/net/lbt0/queues/rx-0/${file}`]))._unsafeUnwrap().stdout.trim();
    const online = await text("/sys/devices/system/cpu/online");
    const onlineCount = online.split(",").reduce((n, part) => {
      const [a, b] = part.split("-").map(Number);
      return n + (b === undefined ? 1 : b - (a ?? 0) + 1);
    }, 0);
    const mask = BigInt(`0x${(await cat("rps_cpus")).replaceAll(",", "")}`);
    expect(mask.toString(2).replaceAll("0", "").length).toBe(onlineCount);
    expect(await cat("rps_flow_cnt")).toBe("4096");
    expect(await text("/proc/sys/net/core/rps_sock_flow_entries")).toBe(hostEntries);

    // Run again: everything is already as planned.
    const again = (
      await lab.exec(ns, process.execPath, [bin, "tune", "--config", config, "--node", "lb1"])
    )._unsafeUnwrap();
    expect(again.stdout).toContain("3 planned writes: 0 changed, 2 already set, 0 failed, 1 not present here");
  });
});

/** Steering can only be seen to spread work with a second CPU to spread it to. */
const twoCpus: Requirement = {
  name: "two CPUs",
  check: async () => (availableParallelism() >= 2 ? undefined : "needs at least two CPUs online"),
};

// The L4 data plane (nftables nat and direct) is softirq work on the LB node. RPS steers a packet
// to a CPU before the netdev ingress hook (where `direct` forwards) and the nat hooks run, so the
// rules run on the CPUs `portico tune` spreads over. Shown with per-CPU counters at netdev ingress
// on a veth whose every packet the sender queues on CPU 0.
await describeWith(
  [program("ip", ["-V"]), program("nft", ["--version"]), program("taskset", ["-V"]), root, twoCpus],
  "portico tune spreads the L4 path's softirq work",
  () => {
    const lab = new NetnsLab();
    let client = "";
    let lb = "";
    const perCpu = async () => {
      const listed = (await lab.exec(lb, "nft", ["list", "chain", "netdev", "probe", "in"]))._unsafeUnwrap().stdout;
      return [...listed.matchAll(/packets (\d+) bytes \d+ comment "cpu(\d)"/g)].map((m) => Number(m[1]));
    };
    // 200 sockets (200 source ports, so 200 flow hashes), 5 datagrams each, to a port nobody serves.
    const send = async () => {
      const script = `const d=require("node:dgram");const s=[];for(let i=0;i<200;i++)s.push(d.createSocket("udp4"));
(async()=>{for(let r=0;r<5;r++)for(const x of s)await new Promise((ok)=>x.send(Buffer.alloc(32),9,"198.18.9.2",ok));for(const x of s)x.close();})();`;
      const r = (await lab.exec(client, "taskset", ["-c", "0", process.execPath, "-e", script]))._unsafeUnwrap();
      expect(r.code).toBe(0);
    };
    beforeAll(async () => {
      client = await lab.add("rpsc");
      lb = await lab.add("rpsl");
      await must("ip", ["link", "add", "rpsc0", "netns", client, "type", "veth", "peer", "name", "rpsl0", "netns", lb]);
      await must("ip", ["-n", client, "addr", "add", "198.18.9.1/24", "dev", "rpsc0"]);
      await must("ip", ["-n", lb, "addr", "add", "198.18.9.2/24", "dev", "rpsl0"]);
      await must("ip", ["-n", client, "link", "set", "rpsc0", "up"]);
      await must("ip", ["-n", lb, "link", "set", "rpsl0", "up"]);
      const rules = [
        "table netdev probe {",
        "  chain in {",
        '    type filter hook ingress device "rpsl0" priority -100; policy accept;',
        '    udp dport 9 meta cpu 0 counter comment "cpu0"',
        '    udp dport 9 meta cpu 1 counter comment "cpu1"',
        "    udp dport 9 drop",
        "  }",
        "}",
      ];
      const file = join(dir, "rps-probe.nft");
      await writeFile(file, `${rules.join("\n")}\n`);
      expect((await lab.exec(lb, "nft", ["-f", file]))._unsafeUnwrap().code).toBe(0);
    });
    afterAll(async () => {
      await lab.destroy();
    });

    it("without RPS every datagram is handled on the sender's CPU; after portico tune, on both", async () => {
      await send();
      expect(await perCpu()).toEqual([1000, 0]);

      const config = join(dir, "rps.yaml");
      await writeFile(config, configText("rpsl0", "tuning:\n  rps: always\n"));
      const tuned = (
        await lab.exec(lb, process.execPath, [bin, "tune", "--config", config, "--node", "lb1"])
      )._unsafeUnwrap();
      expect(tuned.code).toBe(0);
      await send();
      const [cpu0 = 0, cpu1 = 0] = await perCpu();
      const steered = { cpu0: cpu0 - 1000, cpu1 };
      process.stdout.write(`after tune, 1000 datagrams from CPU 0: ${JSON.stringify(steered)}\n`);
      expect(steered.cpu0 + steered.cpu1).toBe(1000);
      // 200 flow hashes over two CPUs: each gets a real share (binomial, 5 x 100 +- 5 x 7 at 1 sd).
      expect(Math.min(steered.cpu0, steered.cpu1)).toBeGreaterThan(250);
    });
  },
);
