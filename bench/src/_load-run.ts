/** LoadCounts is what a load tool adds up: the outcomes it counts, and the run's time and CPU. */
export interface LoadCounts {
  ok: number;
  failed: number;
  ms: number;
  userUs: number;
}

/**
 * runLoad keeps `parallel` calls of `once` in flight for `ms` milliseconds (and at most `max` in
 * all), then sets `result`'s time and the tool's own user CPU time and prints it as one JSON line.
 * Both are taken from its call on, so Node's start-up is not counted.
 */
export const runLoad = async <R extends LoadCounts>(
  result: R,
  once: () => Promise<void>,
  { ms, parallel, max }: { readonly ms: number; readonly parallel: number; readonly max: number },
): Promise<void> => {
  const t0 = performance.now();
  const cpuAtStart = process.cpuUsage();
  const deadline = t0 + ms;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && started < max) {
      started += 1;
      await once();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  result.ms = performance.now() - t0;
  result.userUs = process.cpuUsage(cpuAtStart).user;
  process.stdout.write(`${JSON.stringify(result)}\n`);
};
