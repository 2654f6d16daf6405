import { arr, rec, type Json } from "./_json.js";
import { ingestMeta, PROTOCOLS, stringMap } from "./_ingestMeta.js";
import { preview } from "./_preview.js";
import { fieldDiagnostic } from "./diagnostics.js";
import {
  bigIntToIp,
  compareCidr,
  ipFamily,
  ipToBigInt,
  parseCidr,
  parseIp,
  type Cidr,
  type Ip,
  type IpFamily,
} from "./ip.js";
import { SOURCE_RANGES_ANNOTATION } from "./kubernetesKeys.js";
import {
  parsePort,
  serviceKey,
  type Diagnostic,
  type IpFamilyPolicy,
  type Port,
  type Protocol,
  type Service,
  type ServicePort,
} from "./model.js";

// Kubernetes times are second-precision UTC; clients may print fractions (toISOString), which are dropped.
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?Z$/;

/** Read a Service; undefined when it has no valid name, or is no LoadBalancer and carries no load-balancer status. */
export const ingestService = (object: Json, diagnostics: Diagnostic[]): Service | undefined => {
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
    diagnostics.push(fieldDiagnostic(ref, severity, reason, field, message));
  };

  const ports: ServicePort[] = [];
  // The API server refuses a port listed twice; a dump or a buggy client may still carry one, and
  // two listeners on one VIP and port cannot both be rendered, so the later one is refused.
  const seenPorts = new Map<string, number>();
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
    const first = seenPorts.get(`${port.value}/${protocol as Protocol}`);
    if (first !== undefined) {
      problem(
        "error",
        "DuplicatePort",
        field,
        `${port.value}/${protocol as Protocol} is already spec.ports[${first}]; this entry is not served`,
      );
      return;
    }
    seenPorts.set(`${port.value}/${protocol as Protocol}`, i);
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
      `${preview(JSON.stringify(spec["loadBalancerIP"]))} is not an IP address; ` +
        `no address is assigned until it is fixed`,
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
        `${c.error}; the Service is not served until its source ranges are valid ` +
          `(admitting everyone instead would open it)`,
      );
    } else {
      const range = asMappedV4(c.value);
      if (range !== c.value)
        problem(
          "warning",
          "MappedSourceRange",
          field,
          `${c.value} is IPv4-mapped IPv6; it is read as ${range}, as Kubernetes' own (Go) parsing reads it`,
        );
      if (!sourceRanges.includes(range)) sourceRanges.push(range);
    }
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

// An IPv4-mapped range (`::ffff:a.b.c.d/n`, n >= 96) as the IPv4 range it admits; others as they are.
const asMappedV4 = (cidr: Cidr): Cidr => {
  const [addr, len] = cidr.split("/") as [Ip, string];
  if (ipFamily(addr) !== 6 || Number(len) < 96) return cidr;
  const v = ipToBigInt(addr);
  if (v >> 32n !== 0xffffn) return cidr;
  const mapped = parseCidr(`${bigIntToIp(v & 0xffffffffn, 4)}/${Number(len) - 96}`);
  return mapped.isOk() ? mapped.value : cidr;
};
