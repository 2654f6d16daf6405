import { libraryBuild } from "../tsup.shared.js";

// Every case runs in its own process (its peak memory is its own) and every probe inside a
// network namespace, so each program is an entry of its own; nothing here is a library.
export default libraryBuild(
  {
    run: "src/run.ts",
    markdown: "src/markdown.ts",
    "planner-case": "src/planner-case.ts",
    "incremental-case": "src/incremental-case.ts",
    "convergence-case": "src/convergence-case.ts",
    "dataplane-case": "src/dataplane-case.ts",
    "failover-case": "src/failover-case.ts",
    "health-checks-case": "src/health-checks-case.ts",
    "bgp-case": "src/bgp-case.ts",
    "bfd-trace-case": "src/bfd-trace-case.ts",
    "maglev-case": "src/maglev-case.ts",
    "udp-failover-case": "src/udp-failover-case.ts",
    "lb-cpu-case": "src/lb-cpu-case.ts",
    "udp-convergence-case": "src/udp-convergence-case.ts",
    "hostile-case": "src/hostile-case.ts",
    "slots-case": "src/slots-case.ts",
    "convergence-probe": "src/convergence-probe.ts",
    takeover: "src/takeover.ts",
    load: "src/load.ts",
    "udp-load": "src/udp-load.ts",
  },
  { dts: false },
);
