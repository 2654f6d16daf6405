import { parsePort, type Millis, type Port } from "../model.js";
import type { HealthCheckConfig } from "../settings.js";
import {
  checkKnown,
  defaulted,
  parsed,
  readFields,
  wholeMillis,
  wholeNumber,
  type Bad,
  type Section,
} from "./_field.js";

const interval = wholeMillis(100, 3_600_000);

/** The fields of `healthCheck`. */
export const HEALTH_CHECK_FIELDS = {
  kubeProxyPort: defaulted<Port>({
    type: "port",
    default: 10256 as Port,
    example: "10256",
    description: "kube-proxy's health port: checked once per node for every externalTrafficPolicy: Cluster Service.",
    parse: parsed(parsePort),
  }),
  intervalMs: defaulted<Millis>({
    ...interval,
    default: 2000 as Millis,
    example: "2000",
    description: "Time between checks; per Service (Local policy): portico.dev/health-check-interval.",
  }),
  rise: defaulted<number>({
    ...wholeNumber(1, 100),
    default: 2,
    example: "2",
    description: "Good checks before a server takes traffic.",
  }),
  fall: defaulted<number>({
    ...wholeNumber(1, 100),
    default: 3,
    example: "3",
    description: "Failed checks before a server is taken out.",
  }),
  fastinterMs: defaulted<Millis>({
    ...interval,
    default: 500 as Millis,
    example: "500",
    description:
      "Time between checks while a server is changing state (HAProxy fastinter), so it falls or rises sooner; " +
      "never slower than the check's interval.",
  }),
  downinterMs: defaulted<Millis>({
    ...interval,
    default: 2000 as Millis,
    example: "2000",
    description:
      "Time between checks while a server is down (HAProxy downinter); never slower than the check's interval.",
  }),
};

/** The `healthCheck` section. */
export const HEALTH_CHECK_SECTION: Section = {
  type: "mapping",
  defaultText: "{}",
  example: "{}",
  description: "Health-check timing and kube-proxy's health port.",
  fields: HEALTH_CHECK_FIELDS,
};

/** Parse the `healthCheck` mapping; a field left undefined had a problem, recorded through `bad`. */
export const parseHealthCheck = (
  s: Readonly<Record<string, unknown>>,
  p: string,
  bad: Bad,
): { -readonly [K in keyof HealthCheckConfig]-?: HealthCheckConfig[K] | undefined } => {
  const v = readFields(HEALTH_CHECK_FIELDS, s, p, bad);
  checkKnown(s, Object.keys(HEALTH_CHECK_FIELDS), p, bad);
  return v;
};
