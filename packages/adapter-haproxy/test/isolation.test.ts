import { describe, expect, it } from "vitest";
import { DIAGNOSTICS_PER_OBJECT, ingest, plan, type Config, type Plan } from "@portico/core";
import { aNode, aParsedConfig, aService, anEndpointSlice, threeNodes } from "@portico/core/testing";
import { renderHaproxy } from "@portico/adapter-haproxy";

// One Service can never cost another its load balancer: each case plans and renders a cluster,
// adds one bad (or unlucky) Service, and shows that the render still succeeds, every other
// Service's plan and sections are byte-identical, and the offender has a condition naming its field.

const others = (): unknown[] => [
  ...threeNodes(),
  aService({ namespace: "shop", name: "api", ports: [{ port: 443, nodePort: 30443 }], statusIps: ["198.18.100.10"] }),
  aService({ namespace: "default", name: "web", statusIps: ["198.18.100.11"] }),
  aService({
    namespace: "team",
    name: "db",
    policy: "Local",
    healthCheckNodePort: 32100,
    ports: [{ port: 5432, nodePort: 30432 }],
    statusIps: ["198.18.100.12"],
  }),
  anEndpointSlice("team", "db", [{ ip: "198.18.64.7", node: "worker-2" }]),
];
const OTHER_KEYS = ["shop/api", "default/web", "team/db"];

/** A haproxy.cfg's sections by their header line. */
const sections = (text: string): Map<string, string> => {
  const out = new Map<string, string>();
  for (const block of text.split("\n\n")) {
    const head = block.split("\n").find((l) => /^(frontend|backend) /.test(l));
    if (head !== undefined) out.set(head, block);
  }
  return out;
};

/** The sections of the other Services: every section the plan says belongs to one of them. */
const sectionsOfOthers = (p: Plan, text: string): Map<string, string> => {
  const ids = new Set<string>([
    ...p.frontends.filter((f) => OTHER_KEYS.includes(f.service)).map((f) => `frontend ${f.id}`),
    ...p.backends.filter((b) => OTHER_KEYS.includes(b.service)).map((b) => `backend ${b.id}`),
  ]);
  return new Map([...sections(text)].filter(([head]) => ids.has(head)));
};

const render = (p: Plan): string => renderHaproxy(p, { header: false })._unsafeUnwrap();

/** Plans and renders the others alone and with `offender`, checks the others are untouched, returns the offender's plan. */
const withOffender = (offender: readonly unknown[], config: Config = aParsedConfig()) => {
  const before = plan(ingest(others()), config);
  const after = plan(ingest([...others(), ...offender]), config);
  const textBefore = render(before);
  const textAfter = render(after);
  for (const key of OTHER_KEYS)
    expect(
      after.services.find((s) => s.key === key),
      key,
    ).toEqual(before.services.find((s) => s.key === key));
  // Placement: every other VIP keeps its VRID and master (planned afresh, as `render` does).
  const placement = (p: Plan) =>
    p.vrrpInstances
      .filter((i) => i.vips.some((v) => before.services.some((s) => s.vips.includes(v))))
      .map((i) => [i.vrid, i.vips.join(","), i.priorities[0]?.lbNode]);
  expect(placement(after)).toEqual(placement(before));
  const was = sectionsOfOthers(before, textBefore);
  expect(was.size).toBe(6);
  expect(sectionsOfOthers(after, textAfter)).toEqual(was);
  return { after, textAfter };
};

const reasonsOf = (p: Plan, key: string) =>
  (p.services.find((s) => s.key === key)?.diagnostics ?? []).map((d) => `${d.reason} ${d.field ?? ""}`.trim());

describe("one Service can never cost another its load balancer", () => {
  it("a port listed twice is refused for that entry, naming spec.ports[i]; the render goes on", () => {
    const { after } = withOffender([
      aService({
        namespace: "tenant",
        name: "dup",
        created: "2026-03-01T00:00:00Z",
        ports: [
          { name: "a", port: 8080, nodePort: 31080 },
          { name: "b", port: 8080, nodePort: 31081 },
        ],
      }),
    ]);
    expect(reasonsOf(after, "tenant/dup")).toContain("DuplicatePort spec.ports[1]");
    expect(after.frontends.filter((f) => f.service === "tenant/dup")).toHaveLength(1);
  });

  it("two 63-character names whose frontend ids collide: the younger fails alone, the render goes on", () => {
    // Found by a distinguished-point (rho) search over the 64-bit hash of the frontend id's parts:
    // both names give fe_default_checkout_frontend_for_the_spring_sa_078cc8887a320c2f for port 80 over IPv4.
    const older = "checkout-frontend-for-the-spring-sale-campaign-79a93c2990e0e760";
    const younger = "checkout-frontend-for-the-spring-sale-campaign-ef4c6cd101e944e7";
    const { after } = withOffender([
      aService({ name: older, created: "2026-03-01T00:00:00Z" }),
      aService({ name: younger, created: "2026-03-02T00:00:00Z" }),
    ]);
    const old = after.frontends.filter((f) => f.service === `default/${older}`);
    expect(old.map((f) => f.id)).toEqual(["fe_default_checkout_frontend_for_the_spring_sa_078cc8887a320c2f"]);
    const mine = after.services.find((s) => s.key === `default/${younger}`)!;
    expect(mine.state).toBe("failed");
    expect(mine.status.conditions[0]).toMatchObject({ status: "False", reason: "IdentifierCollision" });
    expect(mine.status.conditions[0]!.message).toContain(
      `metadata.name: the derived identifier ${old[0]!.id} is already used by the older Service default/${older}`,
    );
    expect(after.services.find((s) => s.key === `default/${older}`)!.state).toBe("ready");
  });

  it("a Service whose derived identifiers another already uses fails alone, naming the identifier", () => {
    // A snapshot built by hand (a library user's own ingest) may hold what ingest refuses: the
    // same port twice gives the same frontend id twice, which the planner's collision check catches.
    const snap = ingest([
      ...others(),
      aService({ namespace: "tenant", name: "twice", created: "2026-03-01T00:00:00Z" }),
    ]);
    const doubled = {
      ...snap,
      services: snap.services.map((s) => (s.key === "tenant/twice" ? { ...s, ports: [s.ports[0]!, s.ports[0]!] } : s)),
    };
    const p = plan(doubled, aParsedConfig());
    const text = render(p);
    const before = plan(ingest(others()), aParsedConfig());
    expect(sectionsOfOthers(p, text)).toEqual(sectionsOfOthers(before, render(before)));
    const mine = p.services.find((s) => s.key === "tenant/twice")!;
    expect(mine.state).toBe("failed");
    expect(mine.status.conditions[0]).toMatchObject({ status: "False", reason: "IdentifierCollision" });
    expect(mine.status.conditions[0]!.message).toMatch(/metadata\.name: the derived identifier fe_tenant_twice_80_v4_/);
    expect(p.frontends.some((f) => f.service === "tenant/twice")).toBe(false);
  });

  it("an older Service's explicit request never takes a younger Service's live address: AddressInUse", () => {
    const { after } = withOffender([
      aService({
        namespace: "tenant",
        name: "thief",
        created: "2025-01-01T00:00:00Z",
        annotations: { "portico.dev/load-balancer-ips": "198.18.100.11" },
      }),
    ]);
    const thief = after.services.find((s) => s.key === "tenant/thief")!;
    expect(thief.state).toBe("failed");
    expect(thief.status.conditions[0]).toMatchObject({ reason: "AddressInUse" });
    expect(thief.status.conditions[0]!.message).toContain("198.18.100.11 is in use by default/web");
  });

  it("a sharing key does not join a Service of another namespace unless the config says so", () => {
    const sharer = (ns: string, name: string, port: number, created: string) =>
      aService({
        namespace: ns,
        name,
        created,
        ports: [{ port, nodePort: port + 30000 }],
        annotations: { "portico.dev/allow-shared-ip": "k", "portico.dev/load-balancer-ips": "198.18.100.20" },
      });
    const cluster = [
      sharer("tenant", "a", 80, "2026-03-01T00:00:00Z"),
      sharer("victim", "b", 81, "2026-03-02T00:00:00Z"),
    ];
    const { after } = withOffender(cluster);
    expect(after.services.find((s) => s.key === "tenant/a")!.vips).toEqual(["198.18.100.20"]);
    expect(reasonsOf(after, "victim/b")).toContain("AddressInUse");
    const across = plan(ingest([...others(), ...cluster]), aParsedConfig({ shareAcrossNamespaces: true }));
    expect(across.services.find((s) => s.key === "victim/b")!.vips).toEqual(["198.18.100.20"]);
  });

  it("an endpoint at an LB node, a VIP, loopback, link-local or outside podCidrs never becomes a server", () => {
    const config = aParsedConfig({ podIpsRoutable: true, podCidrs: ["198.18.64.0/18"] });
    const { after } = withOffender(
      [
        aService({
          namespace: "tenant",
          name: "pods",
          created: "2026-03-01T00:00:00Z",
          allocateLoadBalancerNodePorts: false,
          ports: [{ name: "http", port: 80 }],
        }),
        anEndpointSlice("tenant", "pods", [
          { ip: "198.18.64.9", node: "worker-1" },
          { ip: "198.18.1.1", node: "worker-1" },
          { ip: "198.18.100.11", node: "worker-1" },
          { ip: "127.0.0.1", node: "worker-1" },
          { ip: "169.254.169.254", node: "worker-1" },
          { ip: "198.18.200.1", node: "worker-1" },
        ]),
      ],
      config,
    );
    const servers = after.backends.filter((b) => b.service === "tenant/pods").flatMap((b) => b.servers);
    expect(servers.map((s) => s.address)).toEqual(["198.18.64.9"]);
    const warning = after.services
      .find((s) => s.key === "tenant/pods")!
      .diagnostics.find((d) => d.reason === "EndpointRefused");
    expect(warning?.message).toContain("5 endpoint address(es) are never served: 198.18.1.1 (an LB node's address)");
  });

  it("thousands of unknown annotations give a few diagnostics about that Service, not one each", () => {
    const annotations = Object.fromEntries(
      Array.from({ length: 5000 }, (_, i) => [`portico.dev/unknown-${String(i).padStart(4, "0")}`, "x"]),
    );
    const { after } = withOffender([
      aService({ namespace: "tenant", name: "noisy", created: "2026-03-01T00:00:00Z", annotations }),
    ]);
    const mine = after.services.find((s) => s.key === "tenant/noisy")!;
    expect(mine.state).toBe("ready");
    expect(mine.diagnostics.length).toBeLessThanOrEqual(DIAGNOSTICS_PER_OBJECT + 1);
    const unknown = mine.diagnostics.find((d) => d.reason === "UnknownAnnotation")!;
    expect(unknown.field).toBe("metadata.annotations[portico.dev/unknown-0000]");
    expect(unknown.message).toContain(
      "5000 annotations portico.dev/unknown-0000, portico.dev/unknown-0001, portico.dev/unknown-0002 and 4997 more",
    );
    expect(unknown.message.length).toBeLessThan(2000);
    expect(after.diagnostics.filter((d) => d.object.name === "noisy").length).toBeLessThanOrEqual(
      DIAGNOSTICS_PER_OBJECT + 1,
    );
  });

  it("a fresh plan of twelve Services plus a newer one moves no VIP's master and changes no VRID", () => {
    const twelve = Array.from({ length: 12 }, (_, i) =>
      aService({ name: `s${i}`, created: `2026-01-${String(i + 1).padStart(2, "0")}T00:00:00Z` }),
    );
    const config = aParsedConfig({
      lbNodes: [1, 2, 3].map((i) => ({ name: `lb${i}`, address: `198.18.1.${i}`, interface: "eth0" })),
    });
    const placement = (p: Plan) => p.vrrpInstances.map((i) => [i.vrid, i.vips.join(","), i.priorities[0]?.lbNode]);
    const before = placement(plan(ingest([...threeNodes(), ...twelve]), config));
    const after = placement(
      plan(ingest([...threeNodes(), ...twelve, aService({ name: "new", created: "2026-02-01T00:00:00Z" })]), config),
    );
    expect(after.filter((x) => before.some((y) => y[1] === x[1]))).toEqual(before);
    expect(after).toHaveLength(13);
  });

  it("a node whose address is an LB node's or a VIP is no backend of any Service", () => {
    const p = plan(ingest([...others(), aNode("rogue", "198.18.1.2"), aNode("vip", "198.18.100.11")]), aParsedConfig());
    expect(p.backends.flatMap((b) => b.servers).some((s) => s.node === "rogue" || s.node === "vip")).toBe(false);
    expect((p.checks ?? []).flatMap((c) => c.servers).some((s) => s.node === "rogue" || s.node === "vip")).toBe(false);
  });
});
