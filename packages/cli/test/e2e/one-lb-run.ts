import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { aNode } from "@portico/core/testing";
import type { Started } from "@portico/host";
import { freePort, KubeApiServer, NetnsLab, nodeAddressAt, until } from "@portico/testkit";
import { buildOneLb, installedCfg, oneLbConfig, startHaproxyOn, startPortico, type PorticoRun } from "./one-lb.js";

/** What a one-LB `portico run` file sets up: its temp dir's prefix, the pool, the fake nodes. */
export interface OneLbRunOptions {
  /** mkdtemp's prefix under /tmp, naming the file (`portico-e2e-`). */
  readonly prefix: string;
  /** The pool's addresses in order (the first to the last form its range); each on the LB's lo. */
  readonly pool: readonly string[];
  /** The fake nodes; each is a Node of the cluster at {@link nodeAddressAt} its index. */
  readonly nodes: readonly string[];
  /** A safety cap on each wait, never a target. */
  readonly capMs: number;
}

/**
 * OneLbRun: the lab of a one-LB `portico run` end-to-end file (e2e/one-lb.ts's namespaces and fake
 * nodes), the test API server, `portico run` and the HAProxy it installs for, built by
 * {@link OneLbRun.start} and all taken down by {@link OneLbRun.stop}, whatever a test left running.
 */
export class OneLbRun {
  readonly netns = new NetnsLab();
  dir = "";
  lb = "";
  client = "";
  /** Where `portico run` serves /metrics, /healthz and /readyz on 127.0.0.1. */
  listen = 0;
  api: KubeApiServer | undefined;
  /** The running `portico run`; a test that restarts it puts the new one here. */
  portico: PorticoRun | undefined;
  haproxy: Started | undefined;
  /** When {@link start} started `portico run` (Date.now()). */
  startedAt = 0;
  #fakeNodes: readonly Started[] = [];

  constructor(readonly options: OneLbRunOptions) {}

  /** The test API server (after {@link start}). */
  server(): KubeApiServer {
    return this.api!;
  }

  /** `portico run`'s log so far ("" before it starts). */
  logs(): string {
    return this.portico?.logs() ?? "";
  }

  /**
   * Build the lab, start the API server holding the Nodes and what `cluster` puts there before
   * Portico ever runs, start `portico run`, and, once it has written the first haproxy.cfg (with no
   * master it only writes the validated file), HAProxy on it as haproxy.service does, unless
   * `haproxy` is false (see {@link startHaproxy}). A failure says what portico logged.
   */
  async start(cluster: (api: KubeApiServer) => void = () => undefined, haproxy = true): Promise<void> {
    const { prefix, pool, nodes, capMs } = this.options;
    try {
      this.dir = await mkdtemp(`/tmp/${prefix}`);
      const lab = await buildOneLb(this.netns, pool, nodes);
      [this.lb, this.client, this.#fakeNodes] = [lab.lb, lab.client, lab.fakeNodes];
      this.api = await new KubeApiServer().start();
      for (const [i, n] of nodes.entries()) this.api.put(aNode(n, nodeAddressAt(i)));
      cluster(this.api);
      this.listen = await freePort();
      await writeFile(join(this.dir, "kubeconfig"), this.api.kubeconfig("lb1"));
      const range = `${pool[0]}-${pool[pool.length - 1]}`;
      await writeFile(join(this.dir, "portico.yaml"), oneLbConfig(this.dir, range, this.listen));
      this.startedAt = Date.now();
      this.portico = await startPortico(this.dir);
      await until("the first haproxy.cfg", async () => (await installedCfg(this.dir)) !== "", capMs);
      if (haproxy) await this.startHaproxy();
    } catch (e) {
      throw new Error(`${(e as Error).message}\nportico logs:\n${this.logs()}`);
    }
  }

  /** Start HAProxy in the LB namespace on the file `portico run` wrote, and wait for its worker. */
  async startHaproxy(): Promise<void> {
    this.haproxy = await startHaproxyOn(this.lb, this.dir, this.options.capMs);
  }

  /** Stop everything in reverse order and remove the namespaces and the temp dir. */
  async stop(): Promise<void> {
    await this.portico?.proc.stop("SIGTERM", 5_000);
    await this.haproxy?.stop("SIGTERM", 3_000);
    for (const p of this.#fakeNodes) await p.stop("SIGTERM", 2_000);
    await this.api?.stop();
    await this.netns.destroy();
    if (this.dir !== "") await rm(this.dir, { recursive: true, force: true });
  }
}
