import type { IncomingMessage } from "node:http";
import { jsonPatch, mergePatch } from "./_json-patch.js";
import { strategicMergeService } from "./_strategic-merge.js";

// The wire vocabulary of the test API server: which resources it serves and where, the
// metav1.Status body of every error, and the two time formats of the Kubernetes API.

/** An object as the server keeps it: JSON with metadata. */
export type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

/** A resource the server knows, addressed as the real API server addresses it. */
export interface Resource {
  readonly group: string; // "" for the core group
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Fields of type metav1.MicroTime, as paths. */
  readonly microTimes: readonly (readonly string[])[];
  /**
   * The top-level fields whose change grows `metadata.generation`; absent for kinds whose registry
   * strategy keeps no generation (Services, Nodes, Leases and Events have none).
   */
  readonly generation?: readonly string[];
  /** DELETE answers with the deleted object (the registry's ReturnDeletedObject), not a Status. */
  readonly returnsDeleted?: boolean;
  /** Create clears `status` (the registry strategy's PrepareForCreate). */
  readonly createClearsStatus?: boolean;
}

export const RESOURCES: readonly Resource[] = [
  {
    group: "",
    version: "v1",
    plural: "services",
    kind: "Service",
    namespaced: true,
    microTimes: [],
    returnsDeleted: true,
    createClearsStatus: true,
  },
  { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false, microTimes: [] },
  {
    group: "",
    version: "v1",
    plural: "events",
    kind: "Event",
    namespaced: true,
    microTimes: [["eventTime"], ["series", "lastObservedTime"]],
  },
  {
    group: "discovery.k8s.io",
    version: "v1",
    plural: "endpointslices",
    kind: "EndpointSlice",
    namespaced: true,
    microTimes: [],
    generation: ["addressType", "endpoints", "ports"],
  },
  {
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    kind: "Lease",
    namespaced: true,
    microTimes: [
      ["spec", "acquireTime"],
      ["spec", "renewTime"],
    ],
  },
  {
    group: "events.k8s.io",
    version: "v1",
    plural: "events",
    kind: "Event",
    namespaced: true,
    microTimes: [["eventTime"], ["series", "lastObservedTime"]],
  },
];

export const apiVersionOf = (r: Resource): string => (r.group === "" ? r.version : `${r.group}/${r.version}`);

/** The generation `next` gets when it replaces `existing` (undefined: the kind keeps none). */
export const generationOf = (resource: Resource, existing: Obj | undefined, next: Obj): number | undefined => {
  if (resource.generation === undefined) return undefined;
  if (existing === undefined) return 1;
  const was = Number(existing.metadata?.["generation"] ?? 1);
  const changed = resource.generation.some((f) => JSON.stringify(existing[f]) !== JSON.stringify(next[f]));
  return changed ? was + 1 : was;
};

/** A request path taken apart: `/api/v1/namespaces/default/services/web/status`. */
export interface Route {
  readonly resource: Resource;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

export const parsePath = (path: string): Route | undefined => {
  const parts = path.split("/").filter((p) => p !== "");
  let group = "";
  let rest: string[];
  if (parts[0] === "api" && parts[1] === "v1") rest = parts.slice(2);
  else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1]!;
    rest = parts.slice(3);
  } else return undefined;
  const version = parts[0] === "api" ? "v1" : parts[2]!;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === rest[0]);
  if (!resource || (namespace !== undefined && !resource.namespaced)) return undefined;
  return {
    resource,
    ...(namespace === undefined ? {} : { namespace }),
    ...(rest[1] === undefined ? {} : { name: rest[1] }),
    ...(rest[2] === undefined ? {} : { subresource: rest[2] }),
  };
};

/** The metav1.Status body kube-apiserver sends with every error. */
export const statusObject = (code: number, reason: string, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  code,
});

/** A metav1.Time as the server writes it: RFC 3339 at whole seconds, UTC. */
export const timeNow = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");

// metav1.MicroTime decodes with Go's layout "2006-01-02T15:04:05.000000Z07:00", which takes
// exactly six fractional digits.
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

/** The first MicroTime field of `object` that kube-apiserver could not decode, as a 400 message. */
export const badMicroTime = (resource: Resource, object: Obj): string | undefined => {
  for (const path of resource.microTimes) {
    let value: unknown = object;
    for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string" || !MICRO_TIME.test(value)) {
      const version = apiVersionOf(resource);
      return (
        `${resource.kind} in version "${version}" cannot be handled as a ${resource.kind}: ` +
        `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": ` +
        `${path.join(".")} needs exactly six fractional digits`
      );
    }
  }
  return undefined;
};

/** Who sent a request: the bearer token of its kubeconfig (`token-<user>`). */
export const clientOf = (req: IncomingMessage): string =>
  String(req.headers["authorization"] ?? "").replace(/^Bearer token-/, "");

export const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(""));
  });

export const parseJson = (text: string): unknown => {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/** A request body read as an object, or the Status to answer with. */
export type Parsed = { ok: Obj } | { error: ReturnType<typeof statusObject> };

/** The body when it is a JSON object. */
export const asObject = (body: unknown): Parsed =>
  typeof body === "object" && body !== null && !Array.isArray(body)
    ? { ok: body as Obj }
    : { error: statusObject(400, "BadRequest", "the body of the request is not a JSON object") };

/** `existing` with a merge or JSON patch applied (on a copy). */
export const patched = (existing: Obj, contentType: string, patch: unknown): Parsed => {
  if (contentType === "application/merge-patch+json") return asObject(mergePatch(structuredClone(existing), patch));
  // Strategic merge is served for Services only (the lists it merges are theirs).
  if (contentType === "application/strategic-merge-patch+json" && existing["kind"] === "Service")
    return asObject(strategicMergeService(structuredClone(existing), patch));
  if (contentType === "application/json-patch+json") {
    const applied = jsonPatch(structuredClone(existing), patch);
    if ("ok" in applied) return asObject(applied.ok);
    // kube-apiserver answers a patch it cannot apply, a failed `test` included, with 422.
    return { error: statusObject(422, "Invalid", applied.failed) };
  }
  const message = `the body of the request was in an unknown format: ${contentType}`;
  return { error: statusObject(415, "UnsupportedMediaType", message) };
};

/** A kubeconfig (YAML text) for `user` (bearer token `token-<user>`) at `url`. */
export const kubeconfigFor = (url: string, user: string): string =>
  [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: test",
    "  cluster:",
    `    server: ${url}`,
    // client-node refuses a plain http:// server unless TLS verification is explicitly off.
    "    insecure-skip-tls-verify: true",
    "users:",
    `- name: ${user}`,
    "  user:",
    `    token: token-${user}`,
    "contexts:",
    "- name: test",
    "  context:",
    "    cluster: test",
    `    user: ${user}`,
    "current-context: test",
    "",
  ].join("\n");
