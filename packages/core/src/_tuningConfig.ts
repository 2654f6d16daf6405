import { cpuSet, parseCpuList, type CpuSet } from "./cpus.js";
import { preview } from "./ip.js";
import type { IrqAffinityMode, RpsMode, TuningPolicy } from "./tuning.js";

/** Defaults of the config's `tuning` section. */
export const TUNING_DEFAULTS = {
  rps: "auto",
  rfs: true,
  rpsSockFlowEntries: 32768,
  xps: true,
  irqAffinity: "off",
  excludeCpus: "",
} as const;

const KNOWN = ["rps", "rfs", "rpsSockFlowEntries", "xps", "irqAffinity", "excludeCpus"];
// The kernel keeps the global RFS table in one allocation; 2^26 entries is far beyond any NIC's need.
const MAX_SOCK_FLOW_ENTRIES = 1 << 26;

type Bad = (path: string, message: string) => undefined;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const oneOf = <T extends string>(v: unknown, values: readonly T[], path: string, bad: Bad): T | undefined =>
  typeof v === "string" && (values as readonly string[]).includes(v) ? (v as T) : bad(path, `"${preview(v)}" is not one of ${values.join(", ")}`);

const bool = (v: unknown, path: string, bad: Bad): boolean | undefined => (typeof v === "boolean" ? v : bad(path, "must be true or false"));

/** Parse the optional `tuning` section; every field has a default, every problem is reported through `bad`. */
export const parseTuningSection = (raw: unknown, bad: Bad): TuningPolicy | undefined => {
  const s = raw ?? {};
  if (!isRecord(s)) return bad("tuning", "must be a mapping");
  for (const k of Object.keys(s).sort()) {
    if (!KNOWN.includes(k)) bad(`tuning.${preview(k)}`, `unknown field; known fields: ${KNOWN.join(", ")}`);
  }
  const get = <T>(key: string, fallback: T, parse: (v: unknown, path: string) => T | undefined): T | undefined =>
    s[key] === undefined || s[key] === null ? fallback : parse(s[key], `tuning.${key}`);

  const rps = get<RpsMode>("rps", TUNING_DEFAULTS.rps, (v, p) => oneOf(v, ["auto", "always", "off"] as const, p, bad));
  const rfs = get("rfs", TUNING_DEFAULTS.rfs as boolean, (v, p) => bool(v, p, bad));
  const xps = get("xps", TUNING_DEFAULTS.xps as boolean, (v, p) => bool(v, p, bad));
  const irqAffinity = get<IrqAffinityMode>("irqAffinity", TUNING_DEFAULTS.irqAffinity, (v, p) => oneOf(v, ["off", "spread"] as const, p, bad));
  // The kernel rounds the table up to a power of two; asking for one keeps what is read back equal to what was written.
  const rpsSockFlowEntries = get("rpsSockFlowEntries", TUNING_DEFAULTS.rpsSockFlowEntries as number, (v, p) =>
    typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= MAX_SOCK_FLOW_ENTRIES && (v & (v - 1)) === 0
      ? v
      : bad(p, `must be a power of two from 1 to ${MAX_SOCK_FLOW_ENTRIES}`),
  );
  const excludeCpus = get<CpuSet>("excludeCpus", cpuSet([]), (v, p) => {
    if (typeof v === "number" && Number.isInteger(v)) return parseCpuList(`${v}`).match((c) => c, (e) => bad(p, e));
    if (typeof v !== "string") return bad(p, "must be a CPU list like \"0-1,8\"");
    return parseCpuList(v).match((c) => c, (e) => bad(p, e));
  });
  if (rps === undefined || rfs === undefined || xps === undefined || irqAffinity === undefined || rpsSockFlowEntries === undefined || excludeCpus === undefined) return undefined;
  return { rps, rfs, xps, irqAffinity, rpsSockFlowEntries, excludeCpus };
};
