import { compareCidr, ipFamily, parseCidr, parseIp, preview, type Cidr, type Ip, type IpFamily } from "./ip.js";
import {
  isDns1123Label,
  isDns1123Subdomain,
  parsePort,
  serviceKey,
  type ClusterSnapshot,
  type Diagnostic,
  type Endpoint,
  type IpFamilyPolicy,
  type EndpointSlice,
  type Node,
  type NodeName,
  type ObjectRef,
  type Port,
  type Protocol,
  type Service,
  type ServicePort,
  type Taint,
} from "./model.js";
import { match } from "ts-pattern";
import { keepSame, sameItems } from "./same.js";

type Json = Record<string, unknown>;

/** The legacy annotation for source ranges, honoured when `spec.loadBalancerSourceRanges` is empty. */
export const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/**
 * Turn Kubernetes-shaped objects (as `kubectl get -o yaml|json` prints them, decoded) into a
 * snapshot. Accepts single objects, `kind: List` (and typed lists such as `ServiceList`), and any
 * mix of them. Never throws: each malformed object or field becomes a diagnostic, and the object
 * is left out only when it cannot be identified.
 */
export const ingest = (documents: readonly unknown[]): ClusterSnapshot => ingestIncremental(documents).snapshot;

/**
 * What {@link ingestIncremental} keeps from one snapshot for the next: what each input object
 * read as (by identity), and the last snapshot. A plain value passed in and returned.
 */
export interface IngestCache {
  readonly objects: WeakMap<object, Ingested>;
  readonly snapshot: ClusterSnapshot;
  readonly services: ReadonlyMap<string, Service>;
  readonly nodes: ReadonlyMap<string, Node>;
  readonly endpointSlices: ReadonlyMap<string, EndpointSlice>;
}

/** One input object as read: what it became and the diagnostics reading it gave. */
type Ingested =
  | { readonly kind: "Service"; readonly value: Service | undefined; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: "Node"; readonly value: Node | undefined; readonly diagnostics: readonly Diagnostic[] }
  | {
      readonly kind: "EndpointSlice";
      readonly value: EndpointSlice | undefined;
      readonly diagnostics: readonly Diagnostic[];
    };

const read = (object: Json, kind: Ingested["kind"]): Ingested => {
  const diagnostics: Diagnostic[] = [];
  return match(kind)
    .with("Service", (k) => ({ kind: k, value: ingestService(object, diagnostics), diagnostics }))
    .with("Node", (k) => ({ kind: k, value: ingestNode(object, diagnostics), diagnostics }))
    .with("EndpointSlice", (k) => ({ kind: k, value: ingestEndpointSlice(object, diagnostics), diagnostics }))
    .exhaustive();
};

/**
 * {@link ingest}, reusing the work of the call that returned `cache`: an input object that is the
 * very object read last time is not read again, and a Service, Node or EndpointSlice equal to
 * last time's is that object, so the planner compares them by identity. When nothing Portico
 * reads changed (a Node's heartbeat, an unrelated annotation), the snapshot is last time's object.
 * The snapshot is equal to `ingest(documents)`. Input objects must not be changed in place
 * after they were passed (a watch cache replaces objects; it does not edit them).
 */
export const ingestIncremental = (
  documents: readonly unknown[],
  cache?: IngestCache,
): { readonly snapshot: ClusterSnapshot; readonly cache: IngestCache } => {
  const memo = cache?.objects ?? new WeakMap<object, Ingested>();
  const diagnostics: Diagnostic[] = [];
  const services: Service[] = [];
  const nodes: Node[] = [];
  const slices: EndpointSlice[] = [];
  for (const { object, path } of flatten(documents)) {
    const kind = object["kind"];
    if (kind === "Service" || kind === "Node" || kind === "EndpointSlice") {
      let r = memo.get(object);
      if (r === undefined || r.kind !== kind) memo.set(object, (r = read(object, kind)));
      diagnostics.push(...r.diagnostics);
      // An object equal to last time's is that object. The memo remembers it, so the deep
      // comparison runs once per new input object.
      if (r.kind === "Service" && r.value !== undefined) {
        const kept = keepSame(cache?.services.get(r.value.key), r.value);
        if (kept !== r.value) memo.set(object, { ...r, value: kept });
        services.push(kept);
      } else if (r.kind === "Node" && r.value !== undefined) {
        const kept = keepSame(cache?.nodes.get(r.value.name), r.value);
        if (kept !== r.value) memo.set(object, { ...r, value: kept });
        nodes.push(kept);
      } else if (r.kind === "EndpointSlice" && r.value !== undefined) {
        const kept = keepSame(cache?.endpointSlices.get(sliceKey(r.value)), r.value);
        if (kept !== r.value) memo.set(object, { ...r, value: kept });
        slices.push(kept);
      }
    } else if (typeof kind !== "string") {
      // Other kinds (Pods, Endpoints, ...) are legitimately present in dumps; ignore them.
      diagnostics.push({
        severity: "warning",
        reason: "UnknownObject",
        object: { kind: "Unknown" },
        field: path,
        message: `${path}: not a Kubernetes object (no kind); ignored (expected Services, Nodes and EndpointSlices, or a List of them, as kubectl get -o yaml prints)`,
      });
    }
  }
  // Deterministic regardless of input order; duplicates (same key twice) keep the last seen by a stable rule.
  const was = cache?.snapshot;
  const fresh: ClusterSnapshot = {
    services: keepItems(
      was?.services,
      dedupe(services, (s) => s.key, diagnostics, "Service"),
    ),
    nodes: keepItems(
      was?.nodes,
      dedupe(nodes, (n) => n.name, diagnostics, "Node"),
    ),
    endpointSlices: keepItems(was?.endpointSlices, dedupe(slices, sliceKey, diagnostics, "EndpointSlice")),
    diagnostics: keepSame(was?.diagnostics, sortDiagnostics(diagnostics)),
  };
  const snapshot =
    was !== undefined &&
    fresh.services === was.services &&
    fresh.nodes === was.nodes &&
    fresh.endpointSlices === was.endpointSlices &&
    fresh.diagnostics === was.diagnostics
      ? was
      : fresh;
  return {
    snapshot,
    cache: {
      objects: memo,
      snapshot,
      services: new Map(snapshot.services.map((s) => [s.key, s])),
      nodes: new Map(snapshot.nodes.map((n) => [n.name, n])),
      endpointSlices: new Map(snapshot.endpointSlices.map((e) => [sliceKey(e), e])),
    },
  };
};

const sliceKey = (e: EndpointSlice): string => `${e.namespace}/${e.name}`;

// The previous list when it holds the same objects in the same order.
const keepItems = <T>(previous: readonly T[] | undefined, next: readonly T[]): readonly T[] =>
  sameItems(previous, next) ? previous! : next;

/** Sort diagnostics by object, field, reason and message, so output never depends on input order. */
export const sortDiagnostics = (list: readonly Diagnostic[]): Diagnostic[] =>
  [...list].sort(
    (a, b) =>
      cmp(refKey(a.object), refKey(b.object)) ||
      cmp(a.field ?? "", b.field ?? "") ||
      cmp(a.reason, b.reason) ||
      cmp(a.message, b.message),
  );

/** `Kind namespace/name` for messages. */
export const describeRef = (ref: ObjectRef): string =>
  ref.namespace !== undefined
    ? `${ref.kind} ${ref.namespace}/${ref.name ?? "?"}`
    : ref.name !== undefined
      ? `${ref.kind} ${ref.name}`
      : ref.kind;

const refKey = (r: ObjectRef): string => `${r.kind}\u0000${r.namespace ?? ""}\u0000${r.name ?? ""}`;
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const rec = (v: unknown): Json => (isRecord(v) ? v : {});
const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);

const flatten = (documents: readonly unknown[]): { object: Json; path: string }[] => {
  const out: { object: Json; path: string }[] = [];
  const visit = (doc: unknown, path: string, impliedKind?: string): void => {
    if (doc === null || doc === undefined) return;
    if (!isRecord(doc)) {
      out.push({ object: {}, path });
      return;
    }
    const kind = typeof doc["kind"] === "string" ? doc["kind"] : impliedKind;
    if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(doc["items"])) {
      // Typed lists (ServiceList) may omit each item's kind; the list's kind implies it.
      const itemKind = kind === "List" ? undefined : kind.slice(0, -"List".length);
      doc["items"].forEach((item, i) => visit(item, `${path}.items[${i}]`, itemKind));
      return;
    }
    out.push({ object: kind === doc["kind"] ? doc : { ...doc, kind }, path });
  };
  documents.forEach((d, i) => visit(d, `document[${i}]`));
  return out;
};

const dedupe = <T>(items: readonly T[], key: (t: T) => string, diagnostics: Diagnostic[], kind: string): T[] => {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    if (byKey.has(k)) {
      const [namespace, name] = k.includes("/") ? (k.split("/") as [string, string]) : [undefined, k];
      diagnostics.push({
        severity: "warning",
        reason: "DuplicateObject",
        object: namespace === undefined ? { kind, name } : { kind, namespace, name },
        message: `${kind} ${k} appears more than once in the input; the last one is used`,
      });
    }
    byKey.set(k, item);
  }
  return [...byKey.entries()].sort(([a], [b]) => cmp(a, b)).map(([, v]) => v);
};

// Kubernetes times are second-precision UTC; clients may print fractions (toISOString), which are dropped.
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?Z$/;

const ingestMeta = (
  object: Json,
  kind: string,
  namespaced: boolean,
  diagnostics: Diagnostic[],
): { namespace: string; name: string; ref: ObjectRef; meta: Json } | undefined => {
  const meta = rec(object["metadata"]);
  const name = meta["name"];
  const namespace = namespaced ? meta["namespace"] : "";
  const nameOk =
    kind === "Node"
      ? isDns1123Subdomain(name)
      : kind === "EndpointSlice"
        ? isDns1123Subdomain(name)
        : isDns1123Label(name);
  const nsOk = !namespaced || isDns1123Label(namespace);
  if (!nameOk || !nsOk) {
    diagnostics.push({
      severity: "error",
      reason: "InvalidObject",
      object: { kind },
      field: nameOk ? "metadata.namespace" : "metadata.name",
      message: `${kind} with ${nameOk ? `metadata.namespace "${preview(namespace)}"` : `metadata.name "${preview(name)}"`}: not a valid Kubernetes name (${!nameOk && kind !== "Service" ? "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253" : "a DNS-1123 label: lowercase letters, digits and '-', at most 63"}); object ignored`,
    });
    return undefined;
  }
  const ref: ObjectRef = namespaced
    ? { kind, namespace: namespace as string, name: name as string }
    : { kind, name: name as string };
  return { namespace: namespace as string, name: name as string, ref, meta };
};

const stringMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec(v)).sort(([a], [b]) => cmp(a, b))) {
    if (typeof val === "string") out[k] = val;
  }
  return out;
};

const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

const ingestService = (object: Json, diagnostics: Diagnostic[]): Service | undefined => {
  const m = ingestMeta(object, "Service", true, diagnostics);
  if (!m) return undefined;
  const { namespace, name, ref, meta } = m;
  const spec = rec(object["spec"]);
  const type = typeof spec["type"] === "string" ? spec["type"] : "ClusterIP";
  const hadIngress = arr(rec(rec(object["status"])["loadBalancer"])["ingress"]).length > 0;
  // Only LoadBalancer Services (or ones that still carry a load-balancer status) concern Portico;
  // other Services are not read any further so their oddities never produce noise.
  if (type !== "LoadBalancer" && !hadIngress) return undefined;

  const problem = (severity: Diagnostic["severity"], reason: string, field: string, message: string): void => {
    diagnostics.push({ severity, reason, object: ref, field, message: `${describeRef(ref)}: ${field}: ${message}` });
  };

  const ports: ServicePort[] = [];
  arr(spec["ports"]).forEach((raw, i) => {
    const p = rec(raw);
    const field = `spec.ports[${i}]`;
    const protocol = p["protocol"] === undefined ? "TCP" : p["protocol"];
    if (!PROTOCOLS.includes(protocol as Protocol)) {
      problem(
        "error",
        "InvalidPort",
        `${field}.protocol`,
        `"${preview(protocol)}" is not one of TCP, UDP, SCTP; port not served`,
      );
      return;
    }
    const port = parsePort(p["port"]);
    if (port.isErr()) {
      problem("error", "InvalidPort", `${field}.port`, `${port.error}; port not served`);
      return;
    }
    let nodePort: Port | undefined;
    if (p["nodePort"] !== undefined && p["nodePort"] !== null) {
      const np = parsePort(p["nodePort"]);
      if (np.isErr()) problem("error", "InvalidPort", `${field}.nodePort`, `${np.error}; port not served`);
      else nodePort = np.value;
    }
    const portName = typeof p["name"] === "string" ? p["name"] : "";
    ports.push({
      name: portName,
      protocol: protocol as Protocol,
      port: port.value,
      ...(nodePort === undefined ? {} : { nodePort }),
    });
  });

  let externalTrafficPolicy: "Cluster" | "Local" = "Cluster";
  const etp = spec["externalTrafficPolicy"];
  if (etp === "Local") externalTrafficPolicy = "Local";
  else if (etp !== undefined && etp !== "Cluster")
    problem(
      "warning",
      "InvalidField",
      "spec.externalTrafficPolicy",
      `"${preview(etp)}" is not Cluster or Local; using Cluster`,
    );

  let healthCheckNodePort: Port | undefined;
  if (spec["healthCheckNodePort"] !== undefined && spec["healthCheckNodePort"] !== null) {
    const h = parsePort(spec["healthCheckNodePort"]);
    if (h.isErr()) problem("error", "InvalidField", "spec.healthCheckNodePort", h.error);
    else healthCheckNodePort = h.value;
  }

  const ipFamilies: IpFamily[] = [];
  arr(spec["ipFamilies"]).forEach((f, i) => {
    if (f === "IPv4" || f === "IPv6") ipFamilies.push(f === "IPv4" ? 4 : 6);
    else problem("warning", "InvalidField", `spec.ipFamilies[${i}]`, `"${preview(f)}" is not IPv4 or IPv6; ignored`);
  });
  if (ipFamilies.length === 0) {
    // Before dual-stack, the family followed the cluster IP.
    const cip = typeof spec["clusterIP"] === "string" ? parseIp(spec["clusterIP"]) : undefined;
    ipFamilies.push(cip?.isOk() ? ipFamily(cip.value) : 4);
  }

  const statusIps: Ip[] = [];
  arr(rec(rec(object["status"])["loadBalancer"])["ingress"]).forEach((raw, i) => {
    const ip = rec(raw)["ip"];
    if (ip === undefined) return;
    const parsed = typeof ip === "string" ? parseIp(ip) : parseIp("");
    if (parsed.isErr())
      problem("warning", "InvalidField", `status.loadBalancer.ingress[${i}].ip`, `${parsed.error}; ignored`);
    else statusIps.push(parsed.value);
  });

  let creationTimestamp = "";
  const created = typeof meta["creationTimestamp"] === "string" ? RFC3339.exec(meta["creationTimestamp"]) : null;
  if (created !== null) creationTimestamp = `${created[1]}Z`;
  else if (meta["creationTimestamp"] !== undefined)
    problem(
      "warning",
      "InvalidField",
      "metadata.creationTimestamp",
      `"${preview(meta["creationTimestamp"])}" is not an RFC 3339 UTC time; the Service is ordered as the newest`,
    );

  let ipFamilyPolicy: IpFamilyPolicy = ipFamilies.length > 1 ? "RequireDualStack" : "SingleStack";
  const policy = spec["ipFamilyPolicy"];
  if (policy === "SingleStack" || policy === "PreferDualStack" || policy === "RequireDualStack")
    ipFamilyPolicy = policy;
  else if (policy !== undefined && policy !== null)
    problem(
      "warning",
      "InvalidField",
      "spec.ipFamilyPolicy",
      `"${preview(policy)}" is not SingleStack, PreferDualStack or RequireDualStack; using ${ipFamilyPolicy}`,
    );

  let loadBalancerIP: Ip | undefined;
  if (typeof spec["loadBalancerIP"] === "string" && spec["loadBalancerIP"] !== "") {
    const parsed = parseIp(spec["loadBalancerIP"].trim());
    if (parsed.isErr())
      problem(
        "error",
        "InvalidAddressRequest",
        "spec.loadBalancerIP",
        `${parsed.error}; no address is assigned until it is fixed`,
      );
    else loadBalancerIP = parsed.value;
  } else if (spec["loadBalancerIP"] !== undefined && spec["loadBalancerIP"] !== null && spec["loadBalancerIP"] !== "") {
    problem(
      "error",
      "InvalidAddressRequest",
      "spec.loadBalancerIP",
      `${preview(JSON.stringify(spec["loadBalancerIP"]))} is not an IP address; no address is assigned until it is fixed`,
    );
  }

  // As the upstream service helper reads them: the spec field wins; the legacy annotation is a
  // comma-separated list; each entry is trimmed and may have host bits set (they are masked off).
  const sourceRanges: Cidr[] = [];
  let sourceRangesValid = true;
  const specRanges = arr(spec["loadBalancerSourceRanges"]);
  const annotationRanges = stringMap(meta["annotations"])[SOURCE_RANGES_ANNOTATION];
  const rangeInputs: { text: unknown; field: string }[] =
    specRanges.length > 0
      ? specRanges.map((r, i) => ({ text: r, field: `spec.loadBalancerSourceRanges[${i}]` }))
      : annotationRanges !== undefined && annotationRanges.trim() !== ""
        ? annotationRanges
            .split(",")
            .map((r) => ({ text: r, field: `metadata.annotations[${SOURCE_RANGES_ANNOTATION}]` }))
        : [];
  for (const { text, field } of rangeInputs) {
    const c = typeof text === "string" ? parseCidr(text.trim(), true) : parseCidr("", true);
    if (c.isErr()) {
      sourceRangesValid = false;
      problem(
        "error",
        "InvalidSourceRanges",
        field,
        `${c.error}; the Service is not served until its source ranges are valid (admitting everyone instead would open it)`,
      );
    } else if (!sourceRanges.includes(c.value)) sourceRanges.push(c.value);
  }
  sourceRanges.sort(compareCidr);

  let sessionAffinity: "None" | "ClientIP" = "None";
  if (spec["sessionAffinity"] === "ClientIP") sessionAffinity = "ClientIP";
  else if (
    spec["sessionAffinity"] !== undefined &&
    spec["sessionAffinity"] !== null &&
    spec["sessionAffinity"] !== "None"
  ) {
    problem(
      "warning",
      "InvalidField",
      "spec.sessionAffinity",
      `"${preview(spec["sessionAffinity"])}" is not None or ClientIP; using None`,
    );
  }
  let sessionAffinityTimeoutSeconds = 10800;
  const timeout = rec(rec(spec["sessionAffinityConfig"])["clientIP"])["timeoutSeconds"];
  if (timeout !== undefined && timeout !== null) {
    if (typeof timeout === "number" && Number.isInteger(timeout) && timeout >= 1 && timeout <= 86400)
      sessionAffinityTimeoutSeconds = timeout;
    else
      problem(
        "warning",
        "InvalidField",
        "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
        `${preview(JSON.stringify(timeout))} is not a whole number of seconds from 1 to 86400; using 10800`,
      );
  }

  const lbClass = spec["loadBalancerClass"];
  const generation = meta["generation"];
  return {
    key: serviceKey(namespace, name),
    namespace,
    name,
    uid: typeof meta["uid"] === "string" ? meta["uid"] : "",
    generation: typeof generation === "number" && Number.isSafeInteger(generation) && generation >= 0 ? generation : 0,
    creationTimestamp,
    type,
    ...(typeof lbClass === "string" ? { loadBalancerClass: lbClass } : {}),
    externalTrafficPolicy,
    ...(healthCheckNodePort === undefined ? {} : { healthCheckNodePort }),
    ipFamilies: [...new Set(ipFamilies)],
    ipFamilyPolicy,
    ports,
    labels: stringMap(meta["labels"]),
    annotations: stringMap(meta["annotations"]),
    ...(loadBalancerIP === undefined ? {} : { loadBalancerIP }),
    loadBalancerSourceRanges: sourceRanges,
    sourceRangesValid,
    sessionAffinity,
    sessionAffinityTimeoutSeconds,
    allocateLoadBalancerNodePorts: spec["allocateLoadBalancerNodePorts"] !== false,
    statusIps,
    deleting: meta["deletionTimestamp"] !== undefined && meta["deletionTimestamp"] !== null,
  };
};

const ingestNode = (object: Json, diagnostics: Diagnostic[]): Node | undefined => {
  const m = ingestMeta(object, "Node", false, diagnostics);
  if (!m) return undefined;
  const { ref, meta } = m;
  const taints: Taint[] = arr(rec(object["spec"])["taints"]).flatMap((raw) => {
    const t = rec(raw);
    return typeof t["key"] === "string"
      ? [
          {
            key: t["key"],
            value: typeof t["value"] === "string" ? t["value"] : "",
            effect: typeof t["effect"] === "string" ? t["effect"] : "",
          },
        ]
      : [];
  });
  const internalIps: Ip[] = [];
  arr(rec(object["status"])["addresses"]).forEach((raw, i) => {
    const a = rec(raw);
    if (a["type"] !== "InternalIP") return;
    const ip = typeof a["address"] === "string" ? parseIp(a["address"]) : parseIp("");
    if (ip.isErr()) {
      diagnostics.push({
        severity: "warning",
        reason: "InvalidField",
        object: ref,
        field: `status.addresses[${i}].address`,
        message: `${describeRef(ref)}: status.addresses[${i}].address: ${ip.error}; ignored`,
      });
    } else if (!internalIps.includes(ip.value)) internalIps.push(ip.value);
  });
  return {
    name: m.name as NodeName,
    labels: stringMap(meta["labels"]),
    taints,
    deleting: meta["deletionTimestamp"] !== undefined && meta["deletionTimestamp"] !== null,
    internalIps,
  };
};

const ingestEndpointSlice = (object: Json, diagnostics: Diagnostic[]): EndpointSlice | undefined => {
  const m = ingestMeta(object, "EndpointSlice", true, diagnostics);
  if (!m) return undefined;
  const { namespace, name, ref, meta } = m;
  const svc = stringMap(meta["labels"])[SERVICE_NAME_LABEL];
  if (!isDns1123Label(svc)) return undefined; // Not owned by a Service (custom slices); nothing for us.
  const addressType = object["addressType"];
  if (addressType !== "IPv4" && addressType !== "IPv6" && addressType !== "FQDN") {
    diagnostics.push({
      severity: "warning",
      reason: "InvalidField",
      object: ref,
      field: "addressType",
      message: `${describeRef(ref)}: addressType "${preview(addressType)}" is not IPv4, IPv6 or FQDN; ignored`,
    });
    return undefined;
  }
  const endpoints: Endpoint[] = arr(object["endpoints"]).map((raw) => {
    const e = rec(raw);
    const c = rec(e["conditions"]);
    const addresses = arr(e["addresses"]).flatMap((a) =>
      typeof a === "string"
        ? parseIp(a).match(
            (ip) => [ip],
            () => [],
          )
        : [],
    );
    const nodeName = e["nodeName"];
    // Per the EndpointSlice API, an unset `ready` means ready, and `serving` follows `ready`.
    const ready = c["ready"] !== false;
    return {
      addresses,
      ...(isDns1123Subdomain(nodeName) ? { nodeName: nodeName as NodeName } : {}),
      ready,
      serving: c["serving"] === undefined ? ready : c["serving"] !== false,
      terminating: c["terminating"] === true,
    };
  });
  const ports = arr(object["ports"]).flatMap((raw) => {
    const p = rec(raw);
    return typeof p["port"] === "number" && Number.isInteger(p["port"])
      ? [
          {
            name: typeof p["name"] === "string" ? p["name"] : "",
            port: p["port"],
            protocol: (PROTOCOLS.includes(p["protocol"] as Protocol) ? p["protocol"] : "TCP") as Protocol,
          },
        ]
      : [];
  });
  return { namespace, name, service: serviceKey(namespace, svc), addressType, endpoints, ports };
};
