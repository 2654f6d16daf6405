import { existsSync } from "node:fs";

/** The transient systemd unit keepalived runs in when apply starts it on a host booted with systemd. */
export const KEEPALIVED_UNIT = "portico-keepalived.service";

/** Who keeps the keepalived that apply starts: systemd (a unit of its own) or apply itself (a child that daemonizes). */
export type KeepalivedSupervisor = "systemd" | "direct";

/** What apply needs to start keepalived: the files it runs with and where. */
export interface KeepalivedLaunch {
  readonly binary: string;
  readonly configPath: string;
  readonly pidFile: string;
  readonly vrrpPidFile: string;
  /** A network namespace (labs and tests): always a direct start inside it. */
  readonly netns?: string;
}

/**
 * The supervisor to use when none is asked for: systemd when it is PID 1 (the test `sd_booted()`
 * makes: /run/systemd/system exists), else a direct start (containers, tests, other inits).
 */
export const defaultSupervisor = (): KeepalivedSupervisor => (existsSync("/run/systemd/system") ? "systemd" : "direct");

/**
 * The command that starts keepalived, as a program and its arguments. Under systemd keepalived
 * runs in the transient unit {@link KEEPALIVED_UNIT}, outside portico.service's cgroup and
 * sandbox, so `systemctl restart portico` leaves it (and the VIPs) alone; it stays in the
 * foreground there, so systemd sees it exit and restarts it. `-P`: VRRP only (Portico configures
 * no health checkers); its own pid files, so several can share a host.
 */
export const keepalivedLaunch = (
  launch: KeepalivedLaunch,
  supervisor: KeepalivedSupervisor,
): { readonly command: string; readonly args: readonly string[] } => {
  const own = ["-P", "-f", launch.configPath, "-p", launch.pidFile, "-r", launch.vrrpPidFile];
  if (launch.netns !== undefined)
    return { command: "ip", args: ["netns", "exec", launch.netns, launch.binary, ...own] };
  if (supervisor === "direct") return { command: launch.binary, args: own };
  return {
    command: "systemd-run",
    args: [
      `--unit=${KEEPALIVED_UNIT}`,
      "--description=keepalived started by Portico (VRRP for the LoadBalancer VIPs)",
      // A failed run is unloaded, so the next start can take the name again.
      "--collect",
      "--property=Restart=on-failure",
      "--property=RestartSec=1s",
      // As Debian's keepalived.service: SIGTERM to the parent, which stops its VRRP child and
      // removes the VIPs in order.
      "--property=KillMode=process",
      launch.binary,
      "--dont-fork",
      ...own,
    ],
  };
};
