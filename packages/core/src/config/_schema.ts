import { preview } from "../_preview.js";
import { compareCidr, parseCidr, type Cidr } from "../ip.js";
import { ANNOTATIONS, optionShortName, parseServiceDefaults, type AnnotationSpec } from "../annotations.js";
import type { ServiceDefaults } from "../annotations.js";
import {
  boolean,
  defaulted,
  optional,
  wholeNumber,
  type Bad,
  type ConfigField,
  type FieldDoc,
  type Section,
} from "./_field.js";
import { CONFIG_API_VERSION, CONFIG_KIND } from "./apiVersion.js";
import { BGP_SECTION } from "./_bgp.js";
import { parsePort, type Port } from "../model.js";
import { CONTROLLER_SECTION } from "./_controller.js";
import { HAPROXY_SECTION } from "./_haproxy.js";
import { HEALTH_CHECK_SECTION } from "./_healthCheck.js";
import { KEEPALIVED_SECTION } from "./_keepalived.js";
import { LB_NODES_SECTION } from "./_lbNode.js";
import { POOLS_SECTION } from "./_pool.js";
import { TUNING_SECTION } from "./_tuning.js";
import { NFTABLES_SECTION } from "./_nftables.js";
import { VRRP_SECTION } from "./_vrrp.js";

const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const exactly = (value: string): ConfigField<string> =>
  optional<string>({
    required: true,
    type: "string",
    defaultText: "required",
    example: value,
    description: `Must be ${value}.`,
    parse: (v, p, bad) => (v === value ? value : bad(p, `must be ${value}, got "${preview(v)}"`)),
  });

/** `serviceDefaults`: one field per option with a cluster-wide default, read with the annotation's parser. */
export const SERVICE_DEFAULTS_SECTION: Section = {
  type: "mapping",
  defaultText: "{}",
  example: "{balance: leastconn}",
  description: "Cluster-wide defaults for per-Service options; keys are the annotation names without portico.dev/.",
  fields: Object.fromEntries(
    (Object.values(ANNOTATIONS) as readonly AnnotationSpec<unknown>[])
      .filter((s) => s.configDefault)
      .map((s) => [
        optionShortName(s),
        {
          type: s.type,
          defaultText: s.defaultText,
          example: s.example,
          description: `Default for ${s.key}.`,
        } satisfies FieldDoc,
      ]),
  ),
};

/** Parse `serviceDefaults`; its problems are recorded through `bad` and leave no defaults. */
export const readServiceDefaults = (raw: unknown, bad: Bad): ServiceDefaults =>
  parseServiceDefaults(raw, "serviceDefaults").match(
    (d) => d,
    (list) => {
      for (const i of list) bad(i.path, i.message);
      return {};
    },
  );

/** The top-level fields of `portico.yaml`, in the order the parser lists them and the reference prints them. */
export const TOP_LEVEL_FIELDS = {
  apiVersion: exactly(CONFIG_API_VERSION),
  kind: exactly(CONFIG_KIND),
  loadBalancerClass: defaulted<string>({
    type: "qualified name",
    default: "portico.dev/haproxy",
    example: "portico.dev/haproxy",
    description: "Services with this spec.loadBalancerClass are Portico's; a foreign class is never touched.",
    parse: (v, p, bad) =>
      typeof v === "string" && v.length <= 316 && QUALIFIED_NAME.test(v)
        ? v
        : bad(p, `"${preview(v)}" is not a qualified name like portico.dev/haproxy`),
  }),
  handleUnclassed: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "true",
    description: "Also take LoadBalancer Services without a loadBalancerClass.",
  }),
  maxBackendsPerService: defaulted<number>({
    ...wholeNumber(0, 100_000),
    default: 0,
    example: "50",
    description:
      "externalTrafficPolicy: Cluster: at most this many backend nodes per Service, a rendezvous-hash subset " +
      "that changes minimally as nodes come and go; 0 keeps every node.",
  }),
  podIpsRoutable: defaulted<boolean>({
    ...boolean,
    default: false,
    example: "true",
    description:
      "Pod IPs are reachable from the LB nodes: ports without a nodePort (allocateLoadBalancerNodePorts: false) " +
      "then target the ready pods directly.",
  }),
  reservedPorts: defaulted<readonly Port[]>({
    type: "list of ports",
    default: [],
    example: "[22, 9100]",
    description:
      "Ports the LB nodes use themselves (sshd, node_exporter): a Service port among them gets no frontend and a " +
      "PortInUse condition, and every other Service is served as usual.",
    parse: (v, p, bad) => {
      if (!Array.isArray(v)) return bad(p, "must be a list of ports");
      const ports: Port[] = [];
      for (const [i, x] of v.entries()) {
        const port = parsePort(x);
        if (port.isErr()) return bad(`${p}[${i}]`, port.error);
        if (!ports.includes(port.value)) ports.push(port.value);
      }
      return ports.sort((a, b) => a - b);
    },
  }),
  shareAcrossNamespaces: defaulted<boolean>({
    ...boolean,
    default: false,
    example: "true",
    description:
      "Services in different namespaces may share an address under one portico.dev/allow-shared-ip key; " +
      "by default a sharing key only joins Services of one namespace, so no tenant can join another's address.",
  }),
  podCidrs: defaulted<readonly Cidr[]>({
    type: "list of CIDRs",
    default: [],
    written: [],
    example: '["198.18.64.0/18", "2001:db8:64::/56"]',
    description:
      "With podIpsRoutable: the only addresses pod backends may have; an endpoint outside them is not served. " +
      "Empty: any address that is not an LB node, a pool address, loopback, link-local, unspecified or multicast.",
    parse: (v, p, bad) => {
      if (!Array.isArray(v)) return bad(p, "must be a list of CIDRs");
      const out: Cidr[] = [];
      v.forEach((x, i) => {
        const c = typeof x === "string" ? parseCidr(x) : undefined;
        if (c?.isOk()) out.push(c.value);
        else bad(`${p}[${i}]`, `"${preview(x)}" is not a CIDR${c?.isErr() ? ` (${c.error})` : ""}`);
      });
      return out.sort(compareCidr);
    },
  }),
};

const T = TOP_LEVEL_FIELDS;

/**
 * The whole of `portico.yaml`: every key the parser accepts, in the order it lists them, each a
 * field or a section of fields. The parser reads each field through its declaration here, and
 * the reference is printed from it.
 */
export const CONFIG_SCHEMA: Readonly<Record<string, ConfigField<unknown, never> | Section>> = {
  apiVersion: T.apiVersion,
  kind: T.kind,
  loadBalancerClass: T.loadBalancerClass,
  handleUnclassed: T.handleUnclassed,
  pools: POOLS_SECTION,
  lbNodes: LB_NODES_SECTION,
  healthCheck: HEALTH_CHECK_SECTION,
  vrrp: VRRP_SECTION,
  haproxy: HAPROXY_SECTION,
  keepalived: KEEPALIVED_SECTION,
  controller: CONTROLLER_SECTION,
  tuning: TUNING_SECTION,
  serviceDefaults: SERVICE_DEFAULTS_SECTION,
  maxBackendsPerService: T.maxBackendsPerService,
  podIpsRoutable: T.podIpsRoutable,
  bgp: BGP_SECTION,
  reservedPorts: T.reservedPorts,
  nftables: NFTABLES_SECTION,
  shareAcrossNamespaces: T.shareAcrossNamespaces,
  podCidrs: T.podCidrs,
};
