import { ipFamily, parseIp, parsePort, type Ip, type Port } from "@portico/core";

/**
 * `address:port` as HAProxy reads it. IPv6 goes in brackets: HAProxy splits the port off at the
 * last colon, so a bare `2001:db8::1:80` only works by luck and reads ambiguously to people.
 */
export const formatEndpoint = (ip: Ip, port: Port): string =>
  ipFamily(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;

/**
 * A duration in HAProxy's time syntax: whole seconds as `2s`, anything else as `500ms`, so the
 * file reads like a person wrote it. HAProxy's unitless default is milliseconds; we always say
 * the unit.
 */
export const formatDuration = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

const ENDPOINT = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([0-9]{1,5})$/;

/**
 * The address and port of an endpoint as {@link formatEndpoint} prints it, both parsed, so only a
 * parsed IP and port reach the runtime API; undefined for anything else.
 */
export const parseEndpoint = (endpoint: string): { address: Ip; port: Port } | undefined => {
  const m = ENDPOINT.exec(endpoint);
  const address = parseIp(m?.[1] ?? m?.[2] ?? "");
  const port = parsePort(Number(m?.[3]));
  return m === null || address.isErr() || port.isErr() ? undefined : { address: address.value, port: port.value };
};
