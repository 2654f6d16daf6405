import { err } from "neverthrow";
import { isRecord } from "../_json.js";
import { preview } from "../_preview.js";
import { isInterfaceName } from "../interfaceName.js";
import { ipFamily, parseIp, type Ip } from "../ip.js";
import { isDns1123Label, type LbNodeName } from "../model.js";
import type { LbNode } from "../settings.js";
import {
  boolean,
  checkKnown,
  checkUnique,
  defaulted,
  optional,
  readField,
  wholeNumber,
  type Bad,
  type Section,
} from "./_field.js";

/** The fields of each of `lbNodes`. */
export const LB_NODE_FIELDS = {
  name: optional<LbNodeName>({
    required: true,
    type: "DNS-1123 label",
    defaultText: "required",
    example: "lb1",
    description: "The name given to --node.",
    parse: (v, q, bad) =>
      isDns1123Label(v)
        ? (v as LbNodeName)
        : bad(q, `"${preview(v)}" is not a DNS-1123 label (lowercase letters, digits, '-')`),
  }),
  address: optional<Ip>({
    required: true,
    type: "IP address",
    defaultText: "required",
    example: "198.18.1.1",
    description: "The address VRRP adverts come from and peers send to.",
    parse: (v, q, bad) =>
      (typeof v === "string" ? parseIp(v) : err(`${preview(v)} is not an IP address`)).match(
        (ip) => ip,
        (e) => bad(q, e),
      ),
  }),
  interface: optional<string>({
    required: true,
    type: "Linux interface name",
    defaultText: "required",
    example: "eth0",
    description: "The interface that carries the VIPs.",
    parse: (v, q, bad) =>
      isInterfaceName(v) ? v : bad(q, `"${preview(v)}" is not a Linux interface name (1-15 of A-Z a-z 0-9 _ . -)`),
  }),
  weight: defaulted<number>({
    ...wholeNumber(1, 100),
    default: 1,
    example: "3",
    description: "A bigger node masters proportionally more VIPs (weighted rendezvous hashing, capped at its share).",
  }),
  drain: defaulted<boolean>({
    ...boolean,
    default: false,
    example: "true",
    description:
      "Holds no masters, stays a backup everywhere: set it, apply on every node, then stop and remove the node.",
  }),
  routerId: optional<Ip>({
    type: "IPv4 address",
    defaultText: "the node's address (when IPv4)",
    example: "198.18.1.1",
    description: "The node's BGP router id (section bgp).",
    parse: (v, q, bad) =>
      (typeof v === "string" ? parseIp(v) : err(`${preview(v)} is not an IPv4 address`)).match(
        (ip) => (ipFamily(ip) === 4 ? ip : bad(q, `${ip} is not an IPv4 address`)),
        (e) => bad(q, e),
      ),
  }),
};

/** The `lbNodes` list. */
export const LB_NODES_SECTION: Section = {
  type: "list",
  defaultText: "required",
  example: "[{name: lb1, address: 198.18.1.1, interface: eth0}]",
  description: "The dedicated load-balancer nodes; all of one address family.",
  fields: LB_NODE_FIELDS,
  list: true,
};

// One of `lbNodes`; undefined when any of it had a problem.
const parseLbNode = (raw: unknown, path: string, bad: Bad): LbNode | undefined => {
  if (!isRecord(raw)) return bad(path, "must be a mapping with name, address and interface");
  checkKnown(raw, Object.keys(LB_NODE_FIELDS), path, bad);
  const F = LB_NODE_FIELDS;
  const weight = readField(F.weight, raw, "weight", path, bad);
  const drain = readField(F.drain, raw, "drain", path, bad);
  const name = readField(F.name, raw, "name", path, bad);
  const address = readField(F.address, raw, "address", path, bad);
  const iface = readField(F.interface, raw, "interface", path, bad);
  const routerId = readField(F.routerId, raw, "routerId", path, bad);
  if (name === undefined || address === undefined || iface === undefined || weight === undefined || drain === undefined)
    return undefined;
  if (routerId === undefined && raw["routerId"] !== undefined && raw["routerId"] !== null) return undefined;
  return { name, address, interface: iface, weight, drain, ...(routerId === undefined ? {} : { routerId }) };
};

/** Parse `lbNodes`: a non-empty list of LB nodes with unique names and addresses of one family. */
export const parseLbNodes = (raw: unknown, bad: Bad): LbNode[] => {
  const lbNodes: LbNode[] = [];
  if (!Array.isArray(raw) || raw.length === 0) bad("lbNodes", "must be a non-empty list of load-balancer nodes");
  else
    raw.forEach((item, i) => {
      const node = parseLbNode(item, `lbNodes[${i}]`, bad);
      if (node) lbNodes.push(node);
    });
  checkUnique(
    lbNodes.map((n) => n.name),
    "lbNodes",
    "LB node name",
    bad,
  );
  checkUnique(
    lbNodes.map((n) => n.address),
    "lbNodes",
    "LB node address",
    bad,
  );
  if (lbNodes.length > 0 && lbNodes.every((n) => n.drain === true))
    bad("lbNodes", "every LB node is drained: at least one must be able to hold VIPs");
  // VRRP unicast peers must share the advertising address's family.
  if (new Set(lbNodes.map((n) => ipFamily(n.address))).size > 1)
    bad(
      "lbNodes",
      "every LB node address must be of the same family (IPv4 or IPv6), " +
        "since VRRP peers advertise to each other over one family",
    );
  return lbNodes;
};
