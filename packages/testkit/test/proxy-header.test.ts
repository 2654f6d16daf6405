import { describe, expect, it } from "vitest";
import { readProxyHeader } from "../src/lab/proxy-header.js";

const V2 = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
// PROXY v2, PROXY command, TCP over IPv4: 198.18.10.2:40000 -> 198.18.100.10:80.
const v2Ipv4 = Buffer.from([...V2, 0x21, 0x11, 0x00, 0x0c, 198, 18, 10, 2, 198, 18, 100, 10, 0x9c, 0x40, 0x00, 0x50]);
// PROXY v2 over IPv6: 2001:db8::100 port 40000 -> 2001:db8:100::10 port 80.
const v2Ipv6 = Buffer.from([
  ...V2,
  0x21,
  0x21,
  0x00,
  0x24,
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00],
  ...[0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10],
  0x9c,
  0x40,
  0x00,
  0x50,
]);

describe("readProxyHeader", () => {
  it("reads a PROXY v2 header's IPv4 and IPv6 client and its length", () => {
    expect(readProxyHeader(Buffer.concat([v2Ipv4, Buffer.from("hello\n")]))).toEqual({
      proxy: "v2",
      client: "198.18.10.2:40000",
      length: 28,
    });
    expect(readProxyHeader(v2Ipv6)).toEqual({ proxy: "v2", client: "[2001:db8:0:0:0:0:0:100]:40000", length: 52 });
  });

  it("reads a PROXY v1 header's IPv4 and IPv6 client and its length", () => {
    const v1 = "PROXY TCP4 198.18.10.2 198.18.100.10 40000 80\r\n";
    expect(readProxyHeader(Buffer.from(`${v1}hello\n`))).toEqual({
      proxy: "v1",
      client: "198.18.10.2:40000",
      length: v1.length,
    });
    expect(readProxyHeader(Buffer.from("PROXY TCP6 2001:db8::100 2001:db8:100::10 40000 80\r\n"))?.client).toBe(
      "[2001:db8::100]:40000",
    );
  });

  it("waits while the bytes so far could still start a header, whichever way they were split", () => {
    for (let cut = 0; cut < v2Ipv4.length; cut++) expect(readProxyHeader(v2Ipv4.subarray(0, cut))).toBeUndefined();
    expect(readProxyHeader(Buffer.from("PROX"))).toBeUndefined();
    expect(readProxyHeader(Buffer.from("PROXY TCP4 198.18.10.2"))).toBeUndefined();
  });

  it("says there is none as soon as the first bytes cannot start one", () => {
    expect(readProxyHeader(Buffer.from("hello\n"))).toEqual({ proxy: "none", client: null, length: 0 });
    expect(readProxyHeader(Buffer.from("GET / HTTP/1.1\r\n"))).toEqual({ proxy: "none", client: null, length: 0 });
  });
});
