import { arr, rec, type Json } from "./_json.js";
import { ingestMeta, stringMap } from "./_ingestMeta.js";
import { fieldDiagnostic } from "./diagnostics.js";
import { parseIp, type Ip } from "./ip.js";
import type { Diagnostic, Node, NodeName, Taint } from "./model.js";

/** Read a Node; undefined when it has no valid name. */
export const ingestNode = (object: Json, diagnostics: Diagnostic[]): Node | undefined => {
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
      diagnostics.push(
        fieldDiagnostic(ref, "warning", "InvalidField", `status.addresses[${i}].address`, `${ip.error}; ignored`),
      );
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
