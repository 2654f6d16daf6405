import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The controller's metrics, registered on `registry` (served on /metrics). */
export const controllerMetrics = (registry: Registry) => ({
  plans: new Counter({ name: "portico_plans_total", help: "Plans computed", registers: [registry] }),
  planDuration: new Histogram({
    name: "portico_plan_duration_seconds",
    help: "Time to plan from a snapshot",
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2],
    registers: [registry],
  }),
  applies: new Counter({
    name: "portico_applies_total",
    help: "Applies on this LB node by target and kind (none, runtime, reload, error)",
    labelNames: ["target", "kind"],
    registers: [registry],
  }),
  applyErrors: new Counter({
    name: "portico_apply_errors_total",
    help: "Apply errors on this LB node",
    registers: [registry],
  }),
  services: new Gauge({
    name: "portico_services",
    help: "Services Portico is responsible for, by state",
    labelNames: ["state"],
    registers: [registry],
  }),
  leader: new Gauge({
    name: "portico_leader",
    help: "1 while this LB node writes Service status",
    registers: [registry],
  }),
  apiConnected: new Gauge({
    name: "portico_api_connected",
    help: "1 while every watch on the API server is healthy",
    registers: [registry],
  }),
  statusWrites: new Counter({
    name: "portico_status_writes_total",
    help: "Status, finalizer and Event writes",
    registers: [registry],
  }),
  haproxyRunning: new Gauge({
    name: "portico_haproxy_running",
    help: "1 while a HAProxy worker runs on this LB node",
    registers: [registry],
  }),
  behind: new Gauge({
    name: "portico_installed_behind_services",
    help: "Services of the plan whose frontends this LB node has not installed (0: installed is the plan)",
    registers: [registry],
  }),
  statusWriteErrors: new Counter({
    name: "portico_status_write_errors_total",
    help: "Failed status, finalizer and Event writes",
    registers: [registry],
  }),
});
