import { match } from "ts-pattern";
import { ANNOTATIONS, type ServiceOptions } from "../annotations.js";
import { parseServiceOptions } from "../serviceOptions.js";
import type { Config } from "../settings.js";
import { describeRef } from "../diagnostics.js";
import { ipFamily, type IpFamily } from "../ip.js";
import { familyAvailable, poolsFor, type AddressRequest } from "../ipam.js";
import type { Diagnostic, Service } from "../model.js";
import { LAST_GOOD_KEPT, lastGood } from "./lastGood.js";
import { isL4Servable } from "./l4.js";

/** Adds one diagnostic about a Service. */
export type Say = (
  severity: Diagnostic["severity"],
  reason: string,
  field: string | undefined,
  message: string,
) => void;

/** The first pass over one Service: options, families, its address request. */
export interface FirstPass {
  readonly service: Service;
  readonly problems: readonly Diagnostic[];
  readonly options: ServiceOptions;
  readonly diag: readonly Diagnostic[];
  readonly families: readonly IpFamily[];
  readonly request: AddressRequest | undefined;
}

/** A {@link Say} that adds to `diag`, naming the Service and the field. */
export const sayFor =
  (service: Service, diag: Diagnostic[]): Say =>
  (severity, reason, field, message) => {
    const ref = { kind: "Service", namespace: service.namespace, name: service.name };
    diag.push({
      severity,
      reason,
      object: ref,
      ...(field === undefined ? {} : { field }),
      message: `${describeRef(ref)}: ${field === undefined ? "" : `${field}: `}${message}`,
    });
  };

/**
 * The first pass over one Service: its options from the annotations, the families it is served
 * in, and what it asks IPAM for (nothing while the request is invalid or nothing can be served).
 */
export const firstPass = (service: Service, problems: readonly Diagnostic[], config: Config): FirstPass => {
  const diag: Diagnostic[] = [];
  const say = sayFor(service, diag);
  const { options, diagnostics: optionDiagnostics, invalid } = parseServiceOptions(service, config.serviceDefaults);
  diag.push(...optionDiagnostics);
  const families = familiesFor(service, options, config, say);
  const invalidRequest = problems.some((d) => d.reason === "InvalidAddressRequest");
  let blocked = invalid.has("loadBalancerIps") || invalid.has("pool") || invalidRequest;
  let familyBlocked = false;
  const requested =
    options.loadBalancerIps.length > 0
      ? options.loadBalancerIps
      : service.loadBalancerIP === undefined
        ? []
        : [service.loadBalancerIP];
  const specIpIgnored =
    options.loadBalancerIps.length > 0 &&
    service.loadBalancerIP !== undefined &&
    !options.loadBalancerIps.includes(service.loadBalancerIP);
  if (specIpIgnored) {
    say(
      "warning",
      "LoadBalancerIPIgnored",
      "spec.loadBalancerIP",
      `${service.loadBalancerIP} is ignored: annotation ${ANNOTATIONS.loadBalancerIps.key} asks for ` +
        options.loadBalancerIps.join(", "),
    );
  }
  for (const ip of requested) {
    if (!families.includes(ipFamily(ip))) {
      say(
        "error",
        "RequestedFamilyNotServed",
        undefined,
        `requested address ${ip} is IPv${ipFamily(ip)}, but the Service is served as ` +
          `${families.map((f) => `IPv${f}`).join(" and ")}; no address is assigned until they agree`,
      );
      blocked = true;
      familyBlocked = true;
    }
  }
  const kept = familyBlocked
    ? undefined
    : lastGood(
        service,
        options,
        requested,
        { ips: invalid.has("loadBalancerIps"), pool: invalid.has("pool"), spec: invalidRequest },
        config,
      );
  if (kept !== undefined)
    say(
      "error",
      LAST_GOOD_KEPT,
      kept.field,
      `${kept.why}; the Service keeps the load balancer it has (${kept.addresses.join(", ")}) until it is fixed`,
    );
  // Kept, a Service is served in the families it was served in, on the addresses it had.
  const served =
    kept === undefined ? families : families.filter((f) => kept.addresses.some((ip) => ipFamily(ip) === f));
  const request: AddressRequest | undefined =
    (!blocked || kept !== undefined) && service.sourceRangesValid && isServable(service, config, options)
      ? {
          key: service.key,
          namespace: service.namespace,
          labels: service.labels,
          families: served,
          // A live Service whose request is invalid asks for the addresses it has, from any pool.
          requested: kept === undefined ? requested : [],
          ...(options.pool === undefined || kept !== undefined ? {} : { pool: options.pool }),
          current: kept?.addresses ?? service.statusIps,
          ...(options.allowSharedIp === undefined ? {} : { sharingKey: options.allowSharedIp }),
          ports: service.ports.map((p) => `${p.port}/${p.protocol}`),
        }
      : undefined;
  return { service, problems, options, diag, families: served, request };
};

/**
 * The families a Service gets addresses of, primary first, as the upstream semantics of
 * `ipFamilyPolicy` say: SingleStack the first of `ipFamilies`; RequireDualStack all of them;
 * PreferDualStack those some pool the Service may use has (at least the first).
 */
const familiesFor = (service: Service, options: ServiceOptions, config: Config, say: Say): IpFamily[] => {
  const listed = service.ipFamilies.length === 0 ? [4 as IpFamily] : [...service.ipFamilies];
  return match(service.ipFamilyPolicy)
    .with("SingleStack", () => {
      if (listed.length > 1)
        say(
          "warning",
          "SingleStackTwoFamilies",
          "spec.ipFamilies",
          `ipFamilyPolicy is SingleStack but two families are listed; only IPv${listed[0]} is served`,
        );
      return listed.slice(0, 1);
    })
    .with("RequireDualStack", () => listed)
    .with("PreferDualStack", () => {
      const allowed = poolsFor(service, config.pools).filter(
        (p) => options.pool === undefined || p.name === options.pool,
      );
      const available = listed.filter((f, i) => i === 0 || familyAvailable(f, allowed, options.pool !== undefined));
      for (const f of listed.filter((x) => !available.includes(x)))
        say(
          "info",
          "FamilyNotAvailable",
          "spec.ipFamilies",
          `PreferDualStack: no pool this Service may use has IPv${f} addresses, so only IPv${listed[0]} is served`,
        );
      return available;
    })
    .exhaustive();
};

/**
 * A Service can be served when it has a TCP port to serve: with a nodePort (and, for Local, a
 * healthCheckNodePort), or without one when pod IPs are routable; or, given its `options`, a port
 * the L4 data plane serves.
 */
export const isServable = (service: Service, config: Config, options?: ServiceOptions): boolean =>
  service.ports.some(
    (p) =>
      (p.protocol === "TCP" &&
        (p.nodePort === undefined
          ? config.podIpsRoutable
          : service.externalTrafficPolicy === "Cluster" || service.healthCheckNodePort !== undefined)) ||
      (options !== undefined && isL4Servable(service, p, options, config)),
  );
