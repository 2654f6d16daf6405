/** BALANCES: HAProxy's balance algorithms Portico renders, in the order the docs list them. */
export const BALANCES = ["roundrobin", "leastconn", "source"] as const;

/** Balance: one of {@link BALANCES}. */
export type Balance = (typeof BALANCES)[number];

/** PROXY_PROTOCOLS: the PROXY protocol versions a backend may be sent, `none` for no header. */
export const PROXY_PROTOCOLS = ["none", "v1", "v2"] as const;

/** ProxyProtocol: one of {@link PROXY_PROTOCOLS}. */
export type ProxyProtocol = (typeof PROXY_PROTOCOLS)[number];
