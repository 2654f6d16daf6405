import type { Config } from "../settings.js";
import type { Service } from "../model.js";

/**
 * Whether Portico is responsible for a Service: `type: LoadBalancer` with our
 * `loadBalancerClass`, or with none when the config handles unclassed Services. A foreign class
 * is never touched, and a Service being deleted leaves the plan.
 */
export const isResponsibleFor = (service: Service, config: Config): boolean =>
  service.type === "LoadBalancer" && !service.deleting && isOurClass(service, config);

/** Whether a Service's class (or its lack of one) is the one the config handles. */
export const isOurClass = (service: Service, config: Config): boolean =>
  service.loadBalancerClass === undefined
    ? config.handleUnclassed
    : service.loadBalancerClass === config.loadBalancerClass;

/** Oldest first (creationTimestamp, then namespace/name); Services without a time sort last. */
export const byAge = (a: Service, b: Service): number => {
  const ta = a.creationTimestamp || "\uffff";
  const tb = b.creationTimestamp || "\uffff";
  return ta < tb ? -1 : ta > tb ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
};

/** The Services Portico plans for, oldest first (the order that decides who gets what). */
export const responsibleServices = (services: readonly Service[], config: Config): Service[] =>
  services.filter((s) => isResponsibleFor(s, config)).sort(byAge);
