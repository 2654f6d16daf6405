import { statusAsInstalled, type InstalledFrontend, type InstalledStatus, type Plan } from "@portico/core";

/** Whether a HAProxy worker runs on this LB node (asked on its master CLI). */
export type ServingProbe = () => Promise<boolean>;

/**
 * Installed: what this LB node's HAProxy has installed, as far as Portico applied it. A successful
 * apply installs the plan's frontends; a failed one leaves what was there (validation refuses
 * before writing, a failed reload is rolled back). Nothing is known before the first apply that
 * succeeds, so status is then left as it is.
 */
export class Installed {
  readonly #probe: ServingProbe;
  #frontends: InstalledFrontend[] | undefined;
  #applyError: string | undefined;
  #running = true;

  constructor(probe: ServingProbe) {
    this.#probe = probe;
  }

  /** Record what applying `plan` did: whether HAProxy took it, and every error (none when all succeeded). */
  record(plan: Plan, haproxyTookIt: boolean, errors: readonly string[]): void {
    if (haproxyTookIt)
      this.#frontends = plan.frontends.map(({ id, service, vip, port }) => ({ id, service, vip, port }));
    this.#applyError = errors.length === 0 ? undefined : errors.join("; ");
  }

  /** Ask whether HAProxy runs; true when that changed to running. */
  async refresh(): Promise<boolean> {
    const was = this.#running;
    this.#running = await this.#probe().catch(() => false);
    return this.#running && !was;
  }

  /** Whether HAProxy ran when last asked. */
  get running(): boolean {
    return this.#running;
  }

  /** `plan`'s status restated as what is installed. */
  view(plan: Plan): InstalledStatus {
    return statusAsInstalled(plan, {
      frontends: this.#frontends,
      running: this.#running,
      ...(this.#applyError === undefined ? {} : { applyError: this.#applyError }),
    });
  }
}
