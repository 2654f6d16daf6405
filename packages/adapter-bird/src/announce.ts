import { ResultAsync } from "neverthrow";
import { parseIp, type AdapterError, type Ip } from "@portico/core";
import { birdc, type BirdcOptions } from "./birdc.js";
import { protocolName } from "./protocolName.js";
import { readBirdBfd, readBirdProtocols, type BirdBfdSession, type BirdProtocol } from "./state.js";
import { birdFailure } from "./validate.js";

/**
 * setAnnounced announces (`birdc enable`) or withdraws (`birdc disable`) one VIP rendered by
 * `renderBird`: only that VIP's static protocol changes, so no BGP session is touched. Render the
 * same choice into the next bird.conf (`announce`), since `birdc configure` restores what the file says.
 */
export const setAnnounced = (vip: Ip, announced: boolean, options: BirdcOptions): ResultAsync<void, AdapterError> => {
  const parsed = parseIp(vip);
  if (parsed.isErr() || parsed.value !== vip)
    return ResultAsync.fromPromise(Promise.reject(new Error(String(vip))), () =>
      birdFailure("apply", `${JSON.stringify(String(vip).slice(0, 64))} is not an IP address in canonical form`),
    );
  const name = protocolName("vip", parsed.value);
  return birdc([announced ? "enable" : "disable", name], options).andThen((reply) =>
    new RegExp(`^${name}: (already )?${announced ? "enabled" : "disabled"}$`, "m").test(reply)
      ? ResultAsync.fromSafePromise(Promise.resolve(undefined))
      : ResultAsync.fromPromise(Promise.reject(new Error(reply)), () =>
          birdFailure("apply", `birdc ${announced ? "enable" : "disable"} ${name}: ${reply.slice(0, 300)}`),
        ),
  );
};

/** What a running BIRD says: its protocols, its BFD sessions, and the VIPs it announces now. */
export interface BirdStatus {
  readonly protocols: readonly BirdProtocol[];
  readonly bfd: readonly BirdBfdSession[];
  /** The VIPs whose static protocol is up, sorted as BIRD lists them. */
  readonly announced: readonly Ip[];
}

/** readBirdStatus asks a running BIRD for `show protocols all` and `show bfd sessions`. */
export const readBirdStatus = (options: BirdcOptions): ResultAsync<BirdStatus, AdapterError> =>
  birdc(["show", "protocols", "all"], options).andThen((protocolsText) =>
    birdc(["show", "bfd", "sessions"], options)
      .orElse(() => ResultAsync.fromSafePromise(Promise.resolve("")))
      .map((bfdText) => {
        const protocols = readBirdProtocols(protocolsText);
        return {
          protocols,
          bfd: readBirdBfd(bfdText),
          announced: protocols.flatMap((p) => (p.vip !== undefined && p.state === "up" ? [p.vip] : [])),
        };
      }),
  );
