import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** A machine to lay out as a fake /sys and /proc. */
export interface FakeMachine {
  readonly possible: string;
  readonly online: string;
  readonly numa?: readonly string[];
  readonly nics: readonly {
    readonly name: string;
    readonly rx: number;
    readonly tx: number;
    readonly numaNode?: number;
    /** Queue interrupts as `[irq, effective CPU list]`, named `<nic>-TxRx-<i>` in /proc/interrupts. */
    readonly irqs?: readonly (readonly [number, string])[];
  }[];
  readonly irqbalance?: boolean;
}

const put = async (path: string, text: string): Promise<void> => {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
};

/**
 * Lay out `machine` under `root` (`<root>/sys`, `<root>/proc`) the way the kernel prints the files. */
export const fakeTree = async (root: string, machine: FakeMachine): Promise<{ sysRoot: string; procRoot: string }> => {
  const sys = join(root, "sys");
  const proc = join(root, "proc");
  await put(`${sys}/devices/system/cpu/possible`, `${machine.possible}\n`);
  await put(`${sys}/devices/system/cpu/online`, `${machine.online}\n`);
  for (const [i, cpus] of (machine.numa ?? []).entries())
    await put(`${sys}/devices/system/node/node${i}/cpulist`, `${cpus}\n`);
  await put(`${sys}/devices/system/node/online`, "0\n");
  const interrupts: string[] = ["           CPU0       CPU1"];
  for (const nic of machine.nics) {
    const dir = `${sys}/class/net/${nic.name}`;
    for (let q = 0; q < nic.rx; q++) {
      await put(`${dir}/queues/rx-${q}/rps_cpus`, "0\n");
      await put(`${dir}/queues/rx-${q}/rps_flow_cnt`, "0\n");
    }
    for (let q = 0; q < nic.tx; q++) await put(`${dir}/queues/tx-${q}/xps_cpus`, "0\n");
    await put(`${dir}/device/numa_node`, `${nic.numaNode ?? -1}\n`);
    for (const [i, [irq, cpus]] of (nic.irqs ?? []).entries()) {
      interrupts.push(` ${irq}:          0          0  IR-PCI-MSIX-0000:3b:00.0  ${i}-edge      ${nic.name}-TxRx-${i}`);
      await put(`${proc}/irq/${irq}/smp_affinity_list`, `${machine.online}\n`);
      await put(`${proc}/irq/${irq}/effective_affinity_list`, `${cpus}\n`);
    }
  }
  interrupts.push(" 9:          0          0   IO-APIC   9-fasteoi   acpi");
  await put(`${proc}/interrupts`, `${interrupts.join("\n")}\n`);
  await put(`${proc}/sys/net/core/rps_sock_flow_entries`, "0\n");
  await put(`${proc}/1/comm`, "systemd\n");
  if (machine.irqbalance === true) await put(`${proc}/812/comm`, "irqbalance\n");
  return { sysRoot: sys, procRoot: proc };
};
