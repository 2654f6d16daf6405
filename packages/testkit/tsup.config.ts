import { libraryBuild } from "../../tsup.shared.js";

// Tests import the TypeScript source (`.`); plain Node programs (the benchmarks, the example lab)
// import `@portico/testkit/lab` from dist, and the programs under lab/ run with `node` inside
// network namespaces, so each is an entry of its own.
export default libraryBuild({
  lab: "src/lab.ts",
  "lab/fake-node": "src/lab/fake-node.ts",
  "lab/client": "src/lab/client.ts",
  "lab/first-connect": "src/lab/first-connect.ts",
  "lab/vip-probe": "src/lab/vip-probe.ts",
  "lab/http-get": "src/lab/http-get.ts",
  "lab/udp-client": "src/lab/udp-client.ts",
  "lab/held-flows": "src/lab/held-flows.ts",
  "lab/udp-loop": "src/lab/udp-loop.ts",
});
