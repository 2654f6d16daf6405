import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { aConfig } from "../src/testing/index.js";

describe("config: pools and Service defaults", () => {
  it("keeps the documented example valid and defaults every new field", () => {
    const c = parseConfig(aConfig())._unsafeUnwrap();
    expect(c.pools[0]).toMatchObject({ name: "default", autoAssign: true });
    expect(c.maxBackendsPerService).toBe(0);
    expect(c.podIpsRoutable).toBe(false);
    expect(c.serviceDefaults).toEqual({});
  });

  it("parses serviceDefaults with the annotation parsers and names bad fields", () => {
    const c = parseConfig({
      ...aConfig(),
      serviceDefaults: { balance: "leastconn", "timeout-connect": "3s", weighting: "pods-per-node" },
    })._unsafeUnwrap();
    expect(c.serviceDefaults).toEqual({ balance: "leastconn", timeoutConnect: 3000, weighting: "pods-per-node" });
    const bad = parseConfig({
      ...aConfig(),
      serviceDefaults: { balance: "fastest", "allow-shared-ip": "x" },
      pools: [
        {
          name: "p",
          addresses: ["198.18.100.0/30"],
          autoAssign: "yes",
          serviceSelector: { matchLabels: { "a b": "c" } },
        },
      ],
    });
    expect(bad._unsafeUnwrapErr().map((i) => i.path)).toEqual([
      "serviceDefaults.allow-shared-ip",
      "serviceDefaults.balance",
      "pools[0].autoAssign",
      "pools[0].serviceSelector",
    ]);
  });
});
