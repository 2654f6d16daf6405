import { PIN_CLOSING_S, PIN_STALE_S, type ViewListener } from "./_view.js";

// Flow pins: the netdev path has no conntrack, so without them a node joining takes its new
// Maglev share of established flows and their nodes reset them. A pin remembers the node a flow
// went to; the Maglev table decides only for flows it does not hold.

/** `ip` or `ip6`. */
export const ip = (family: 4 | 6): "ip" | "ip6" => (family === 4 ? "ip" : "ip6");

/** What the Maglev hash (and a flow's pin) is keyed on: the source address alone for ClientIP affinity. */
export const hashKey = (l: ViewListener): string =>
  l.hashSourceOnly ? `${ip(l.family)} saddr` : `${ip(l.family)} saddr . ${l.protocol} sport`;

/**
 * What a flow's pin is keyed on: the fields the hash uses (the source address alone for ClientIP
 * affinity), at most 16 bytes. nft 1.0.6 gives a dynset update's data the register after the
 * key's first 16 bytes, so a longer key is overwritten by the mark (measured: keyed `tcp sport .
 * ip6 saddr`, the pins held the node's mark where the client address ended; keyed `ip6 saddr .
 * tcp sport` nft aborts). An IPv6 flow is keyed on the port and the low 96 bits of the client's
 * address (`@nh,96,96`): two clients collide only if they differ in the top 32 bits alone and use
 * the same port at the same time.
 */
export const pinKey = (l: ViewListener): string =>
  l.hashSourceOnly
    ? `${ip(l.family)} saddr`
    : l.family === 4
      ? `${l.protocol} sport . ip saddr`
      : `${l.protocol} sport . @nh,96,96`;

/**
 * The pin map of a `direct` listener, the set of flows whose pin was cut short (their node not
 * up), and for TCP the set of ending flows.
 */
export const pinDeclarations = (l: ViewListener): string[] => {
  const p = l.pins;
  if (p === undefined) return [];
  const dynamic = [`    size ${p.size}`, "    flags dynamic,timeout"];
  const set = (name: string, timeoutS: number) => [
    `  set ${name} {`,
    `    typeof ${pinKey(l)}`,
    ...dynamic,
    `    timeout ${timeoutS}s`,
    "  }",
  ];
  return [
    `  map ${p.name} {`,
    `    typeof ${pinKey(l)} : meta mark`,
    ...dynamic,
    `    timeout ${p.timeoutS}s`,
    "  }",
    ...set(p.stale, 2 * PIN_STALE_S),
    ...(p.ending === undefined ? [] : set(p.ending, PIN_CLOSING_S)),
  ];
};

/**
 * The rules ahead of a `direct` listener's plain Maglev rules: a flow pinned to a node that is up
 * goes there and its pin is refreshed (a TCP FIN or RST from the client leaves it TIME_WAIT's
 * while to live, and it is refreshed no more); any other flow is hashed and, if it has no pin,
 * pinned (by the primary table when it names a node that is up, else by the spill table). An
 * update never replaces a pin's node, so a pin to a node that left or failed is cut short once,
 * to {@link PIN_STALE_S}: its flow goes by the table meanwhile and is then pinned to the node the
 * table gives (so the node coming back does not take it back). A dynset update that cannot add (a
 * full map) fails its rule, and the plain rules after these forward by the table alone.
 */
export const pinnedRules = (l: ViewListener, match: string, chooses: readonly string[], action: string): string[] => {
  const p = l.pins!;
  const key = pinKey(l);
  const lookup = `meta mark set ${key} map @${p.name}`;
  const pinned = `${lookup} meta mark @${l.table.up}`;
  const refresh = `update @${p.name} { ${key} : meta mark }`;
  const pin = `add @${p.name} { ${key} : meta mark }`;
  const rule = (what: string) => `    ${match} ${what} counter ${action} comment "${l.id}"`;
  const stale = `    ${match} ${lookup} ${key} != @${p.stale} update @${p.stale} { ${key} } update @${p.name} { ${key} timeout ${PIN_STALE_S}s : meta mark }`;
  if (p.ending === undefined) return [rule(`${pinned} ${refresh}`), stale, ...chooses.map((c) => rule(`${c} ${pin}`))];
  const ends = "tcp flags & (fin | rst) != 0";
  return [
    rule(
      `${pinned} ${ends} update @${p.name} { ${key} timeout ${PIN_CLOSING_S}s : meta mark } update @${p.ending} { ${key} }`,
    ),
    rule(`${pinned} ${key} != @${p.ending} ${refresh}`),
    rule(pinned),
    stale,
    ...chooses.map((c) => rule(`tcp flags & (fin | rst) == 0 ${c} ${pin}`)),
  ];
};
