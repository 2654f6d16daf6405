import { arr, rec, type Json } from "./_json.js";
import { ingestMeta, PROTOCOLS, stringMap } from "./_ingestMeta.js";
import { preview } from "./_preview.js";
import { describeRef } from "./diagnostics.js";
import { parseIp } from "./ip.js";
import { SERVICE_NAME_LABEL } from "./kubernetesKeys.js";
import {
  isDns1123Label,
  isDns1123Subdomain,
  serviceKey,
  type Diagnostic,
  type Endpoint,
  type EndpointSlice,
  type NodeName,
  type Protocol,
} from "./model.js";

/** Read an EndpointSlice; undefined when it has no valid name or belongs to no Service. */
export const ingestEndpointSlice = (object: Json, diagnostics: Diagnostic[]): EndpointSlice | undefined => {
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
