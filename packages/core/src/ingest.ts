import { match } from "ts-pattern";
import { ingestEndpointSlice } from "./_ingestEndpointSlice.js";
import { cmp } from "./_ingestMeta.js";
import { ingestNode } from "./_ingestNode.js";
import { ingestService } from "./_ingestService.js";
import { isRecord, type Json } from "./_json.js";
import { keepSame, sameItems } from "./same.js";
import { sortDiagnostics } from "./diagnostics.js";
import type { ClusterSnapshot, Diagnostic, EndpointSlice, Node, Service } from "./model.js";

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
  for (const { object, path } of flatten(documents, diagnostics)) {
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
        message:
          `${path}: not a Kubernetes object (no kind); ignored (expected Services, Nodes and EndpointSlices, or a ` +
          `List of them, as kubectl get -o yaml prints)`,
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

// Lists nest only a level or two in practice; deeper input is refused before it can exhaust the stack.
const MAX_LIST_DEPTH = 8;

const flatten = (documents: readonly unknown[], diagnostics: Diagnostic[]): { object: Json; path: string }[] => {
  const out: { object: Json; path: string }[] = [];
  let tooDeep = 0;
  const visit = (doc: unknown, path: string, depth: number, impliedKind?: string): void => {
    if (doc === null || doc === undefined) return;
    if (!isRecord(doc)) {
      out.push({ object: {}, path });
      return;
    }
    const kind = typeof doc["kind"] === "string" ? doc["kind"] : impliedKind;
    if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(doc["items"])) {
      if (depth >= MAX_LIST_DEPTH) {
        if (tooDeep++ === 0)
          diagnostics.push({
            severity: "error",
            reason: "InputTooDeep",
            object: { kind: "Unknown" },
            field: path,
            message: `${path}: Lists nested more than ${MAX_LIST_DEPTH} deep; what they hold is ignored`,
          });
        return;
      }
      // Typed lists (ServiceList) may omit each item's kind; the list's kind implies it.
      const itemKind = kind === "List" ? undefined : kind.slice(0, -"List".length);
      doc["items"].forEach((item, i) => visit(item, `${path}.items[${i}]`, depth + 1, itemKind));
      return;
    }
    out.push({ object: kind === doc["kind"] ? doc : { ...doc, kind }, path });
  };
  documents.forEach((d, i) => visit(d, `document[${i}]`, 0));
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
