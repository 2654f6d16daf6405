/** BALANCES: HAProxy's balance algorithms Portico renders, in the order the docs list them. */
export const BALANCES = ["roundrobin", "leastconn", "source"] as const;

/** Balance: one of {@link BALANCES}. */
export type Balance = (typeof BALANCES)[number];

/** PROXY_PROTOCOLS: the PROXY protocol versions a backend may be sent, `none` for no header. */
export const PROXY_PROTOCOLS = ["none", "v1", "v2"] as const;

/** ProxyProtocol: one of {@link PROXY_PROTOCOLS}. */
export type ProxyProtocol = (typeof PROXY_PROTOCOLS)[number];

/**
 * DATA_PLANES: how a Service port's traffic is forwarded: `proxy` (HAProxy, TCP only), `nat`
 * (nftables DNAT and SNAT to nodeIP:nodePort) or `direct` (nftables forwards the packet unchanged
 * to the chosen node's MAC).
 */
export const DATA_PLANES = ["proxy", "nat", "direct"] as const;

/** DataPlane: one of {@link DATA_PLANES}. */
export type DataPlane = (typeof DATA_PLANES)[number];

/** L4_DATA_PLANES: the data planes of the in-kernel L4 path, which serve TCP, UDP and SCTP. */
export const L4_DATA_PLANES = ["nat", "direct"] as const;

/** L4DataPlane: one of {@link L4_DATA_PLANES}. */
export type L4DataPlane = (typeof L4_DATA_PLANES)[number];
