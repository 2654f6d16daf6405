import { describe, expect, it } from "vitest";
import { readBirdBfd, readBirdProtocols, vipOfProtocol } from "../src/index.js";

// As BIRD 2.0.12 prints them (timeformat protocol iso long ms).
const PROTOCOLS = `Name       Proto      Table      State  Since         Info
device1    Device     ---        up     2026-12-01 23:05:11.296

vip4_c612640a Static     master4    up     2026-12-01 23:05:11.296
  Channel ipv4
    State:          UP
    Routes:         1 imported, 0 exported, 1 preferred

vip4_c612640b Static     master4    down   2026-12-01 23:05:11.296
  Channel ipv4
    State:          DOWN

peer4_c61201fe BGP        ---        up     2026-12-01 23:05:14.002  Established
  BGP state:          Established
    Neighbor address: 198.18.1.254
    Neighbor AS:      64500
    Local AS:         64512
  Channel ipv4
    State:          UP
    Routes:         0 imported, 1 exported, 0 preferred
`;

const BFD = `portico_bfd:
IP address                Interface  State      Since         Interval  Timeout
198.18.1.254              va         Up         2026-12-01 23:05:14.100    0.100    0.300
`;

describe("reading BIRD's answers", () => {
  it("reads each protocol, the BGP neighbour and export count, and the VIP of a Portico static protocol", () => {
    const p = readBirdProtocols(PROTOCOLS);
    expect(p.map((x) => [x.name, x.state])).toEqual([
      ["device1", "up"],
      ["vip4_c612640a", "up"],
      ["vip4_c612640b", "down"],
      ["peer4_c61201fe", "up"],
    ]);
    expect(p[3]).toMatchObject({ proto: "BGP", info: "Established", neighbor: "198.18.1.254", neighborAs: 64500 });
    expect(p[3]!.exported).toBe(1);
    expect(p[1]!.vip).toBe("198.18.100.10");
  });

  it("reads BFD sessions", () => {
    expect(readBirdBfd(BFD)).toEqual([
      { address: "198.18.1.254", interface: "va", state: "Up", since: "2026-12-01 23:05:14.100" },
    ]);
  });

  it("a protocol name is read back to its VIP only when it is one Portico renders", () => {
    expect(vipOfProtocol("vip6_20010db8010000000000000000000001")).toBe("2001:db8:100::1");
    expect(vipOfProtocol("vip4_20010db8010000000000000000000001")).toBeUndefined();
    expect(vipOfProtocol("peer4_c61201fe")).toBeUndefined();
  });
});
