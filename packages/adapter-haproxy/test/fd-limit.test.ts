import { describe, expect, it } from "vitest";
import { fitMaxconn, maxconnFor } from "../src/_fdLimit.js";
import { typicalPlan } from "./fixtures.js";

describe("maxconn against the open-files limit", () => {
  it("lowers a maxconn HAProxy could not start with, and keeps one that fits or is unset", () => {
    const plan = typicalPlan();
    const at = (maxconn: number) => ({
      ...plan,
      settings: { ...plan.settings, haproxy: { ...plan.settings.haproxy, maxconn } },
    });
    // 100000 connections need 200000 descriptors and more; a hard limit of 20000 allows 9488.
    expect(maxconnFor(20_000)).toBe(9_488);
    expect(fitMaxconn(at(100_000), 20_000).settings.haproxy.maxconn).toBe(9_488);
    const fits = at(100_000);
    expect(fitMaxconn(fits, 524_288)).toBe(fits);
    expect(fitMaxconn(plan, 20_000)).toBe(plan);
    expect(fitMaxconn(fits, undefined)).toBe(fits);
    // The health-check settings keep their identity: the renderer's cache still applies.
    expect(fitMaxconn(fits, 20_000).settings.healthCheck).toBe(fits.settings.healthCheck);
  });
});
