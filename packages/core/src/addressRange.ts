import { err, ok, type Result } from "neverthrow";
import { preview } from "./_preview.js";
import { bigIntToIp, cidrBounds, ipFamily, ipToBigInt, parseCidr, parseIp, type Ip } from "./ip.js";
import type { AddressRange } from "./settings.js";

/** parseRange: `a-b`, a CIDR or a single address, as an inclusive range. */
export const parseRange = (text: unknown): Result<AddressRange, string> => {
  if (typeof text !== "string") return err(`${preview(text)} is not a range, CIDR or address`);
  const t = text.trim();
  if (t.includes("/")) {
    return parseCidr(t).map((cidr) => {
      const [addr, len] = cidr.split("/") as [Ip, string];
      const family = ipFamily(addr);
      const { first, last } = cidrBounds(family, ipToBigInt(addr), Number(len));
      // An IPv6 prefix's all-zero address is the Subnet-Router anycast address (RFC 4291); never hand it out.
      const usableFirst = family === 6 && Number(len) < 127 ? first + 1n : first;
      return { family, first: usableFirst, last, text: cidr as string };
    });
  }
  const dash = t.indexOf("-");
  const firstText = dash < 0 ? t : t.slice(0, dash).trim();
  const lastText = dash < 0 ? t : t.slice(dash + 1).trim();
  const a = parseIp(firstText);
  const b = parseIp(lastText);
  if (a.isErr()) return err(a.error);
  if (b.isErr()) return err(b.error);
  const family = ipFamily(a.value);
  if (family !== ipFamily(b.value)) return err(`"${preview(t)}" mixes IPv4 and IPv6`);
  const first = ipToBigInt(a.value);
  const last = ipToBigInt(b.value);
  if (first > last) return err(`"${preview(t)}" ends before it starts`);
  const canonical =
    first === last ? bigIntToIp(first, family) : `${bigIntToIp(first, family)}-${bigIntToIp(last, family)}`;
  return ok({ family, first, last, text: canonical });
};
