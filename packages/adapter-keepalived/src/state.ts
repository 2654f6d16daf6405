import { parseIp, parseVrid, type Ip, type LbNodeName, type ReadFn, type Vrid, type VrrpState } from "@portico/core";

const INSTANCE = /^vrrp_instance \S+ \{\n([\s\S]*?)\n\}$/gm;
const VRID = /^\s*virtual_router_id (\d{1,3})$/m;
const VIPS = /^\s*virtual_ipaddress \{\n([\s\S]*?)\n\s*\}$/m;
const MASTER = /^# Intended master: ([a-z0-9-]{1,63})\.$/;

/**
 * The VRRP state an installed keepalived.conf (as Portico renders it) carries: each instance's
 * VRID, its VIPs and its intended master. Pass it to `plan` so VRIDs stay what keepalived runs
 * even when the previous plan is gone. Anything that does not parse is left out, never guessed.
 */
export const readKeepalivedState: ReadFn<VrrpState> = (text) => {
  const instances: { vrid: Vrid; vips: Ip[]; master?: LbNodeName }[] = [];
  const lines = text.split("\n");
  for (const m of text.matchAll(INSTANCE)) {
    const body = m[1] ?? "";
    const vrid = parseVrid(Number(VRID.exec(body)?.[1]));
    const vipLines = VIPS.exec(body)?.[1]?.split("\n") ?? [];
    const vips = vipLines.flatMap((l) => {
      const ip = parseIp(l.trim().split(/[\s/]/)[0] ?? "");
      return ip.isOk() ? [ip.value] : [];
    });
    if (vrid.isErr() || vips.length === 0) continue;
    // The comments just above the block name the intended master.
    const at = text.slice(0, m.index).split("\n").length - 1;
    let master: LbNodeName | undefined;
    for (let i = at - 1; i >= 0 && lines[i]?.startsWith("#"); i--) {
      const found = MASTER.exec(lines[i] ?? "");
      if (found?.[1] !== undefined) master = found[1] as LbNodeName;
    }
    instances.push({ vrid: vrid.value, vips, ...(master === undefined ? {} : { master }) });
  }
  return { lbNodes: [], instances };
};
