import { parseIp, type Ip } from "./ip.js";
import { parsePort, type Port } from "./model.js";

/** parseHostPort: `1.2.3.4:80` or `[2001:db8::1]:80`; undefined when it is neither. */
export const parseHostPort = (text: string): { address: Ip; port: Port } | undefined => {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const ip = parseIp(m[1] ?? m[2] ?? "");
  const port = parsePort(Number(m[3]));
  return ip.isOk() && port.isOk() ? { address: ip.value, port: port.value } : undefined;
};
