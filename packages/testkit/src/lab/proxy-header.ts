/** What the start of a connection says about its client: a PROXY v1 or v2 header, or none. */
export interface ProxyHeader {
  readonly proxy: "v1" | "v2" | "none";
  /** The client address the header carries (`198.18.10.2:40000`, `[2001:db8::100]:40000`); null without one. */
  readonly client: string | null;
  /** How many bytes of the connection the header takes (0 without one). */
  readonly length: number;
}

const V2 = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1 = "PROXY ";
const AF_INET_STREAM = 0x11;
const AF_INET6_STREAM = 0x21;

const hostPort = (address: string, port: string | number): string =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;

const readV2 = (buf: Buffer): ProxyHeader | undefined => {
  if (buf.length < 16) return undefined;
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return undefined;
  const family = buf[13]!;
  if (family === AF_INET_STREAM)
    return { proxy: "v2", client: hostPort([...buf.subarray(16, 20)].join("."), buf.readUInt16BE(24)), length };
  if (family === AF_INET6_STREAM) {
    const groups = Array.from({ length: 8 }, (_, i) => buf.readUInt16BE(16 + i * 2).toString(16));
    return { proxy: "v2", client: hostPort(groups.join(":"), buf.readUInt16BE(48)), length };
  }
  return { proxy: "v2", client: `family-${family}`, length };
};

const readV1 = (buf: Buffer): ProxyHeader | undefined => {
  const end = buf.indexOf("\r\n");
  if (end < 0) return undefined;
  const [, , src = "", , sport = ""] = buf.subarray(0, end).toString().split(" ");
  return { proxy: "v1", client: hostPort(src, sport), length: end + 2 };
};

/**
 * readProxyHeader reads the PROXY protocol header (v1 or v2, IPv4 or IPv6) at the start of a
 * connection's first bytes: what it says, or undefined while the bytes so far could still be the
 * start of one.
 */
export const readProxyHeader = (buf: Buffer): ProxyHeader | undefined => {
  const head = buf.subarray(0, V2.length);
  if (head.equals(V2.subarray(0, head.length))) return buf.length === 0 ? undefined : readV2(buf);
  const text = buf.subarray(0, V1.length).toString("latin1");
  if (V1.startsWith(text)) return text.length < V1.length ? undefined : readV1(buf);
  return { proxy: "none", client: null, length: 0 };
};
