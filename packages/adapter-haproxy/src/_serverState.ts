import type { Installed } from "./_installed.js";

/**
 * A state file with no server in it: the version and the header, so HAProxy reads it without a
 * warning and loads nothing.
 */
export const EMPTY_STATES =
  "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight " +
  "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state " +
  "bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr " +
  "srv_agent_addr srv_agent_port\n";

/**
 * From a `show servers state` dump, the lines a new worker may load after a reload: only servers
 * that stay exactly as they are (same backend, slot, address, port and weight, and not in
 * maintenance or drain). Their health carries over, so a node that was down does not start up
 * in the new worker. Every other slot starts from the new file, as if freshly configured.
 * Tracking (Cluster-policy) slots are left out: their state is their check slot's, which HAProxy
 * passes on to them when it loads that slot's line.
 */
export const keepStates = (dump: string, next: Installed): string => {
  const lines = dump.split("\n");
  const version = lines[0]?.trim();
  const header = lines[1] ?? "";
  if (version !== "1" || !header.startsWith("# be_id be_name srv_id srv_name srv_addr")) return EMPTY_STATES;
  const kept = lines.slice(2).filter((line) => {
    const f = line.split(" ");
    const [, backend, , slot, addr, , admin, weight] = f;
    const port = f[18];
    if (backend === undefined || slot === undefined || addr === undefined || port === undefined) return false;
    const planned = next.backends.get(backend)?.find((s) => s.slot === slot);
    const endpoint = addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`;
    // Admin state 4 alone (SRV_ADMF_CMAINT) is a slot that was `disabled` in the file its worker
    // started with and was filled through the runtime API since: not in maintenance.
    return (
      planned !== undefined &&
      planned.enabled &&
      planned.track === undefined &&
      planned.endpoint === endpoint &&
      (admin === "0" || admin === "4") &&
      weight === String(planned.weight)
    );
  });
  return `${version}\n${header}\n${kept.map((l) => `${l}\n`).join("")}`;
};
