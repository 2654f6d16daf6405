import { ipFamily, type Ip, type Port } from "@portico/core";

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
