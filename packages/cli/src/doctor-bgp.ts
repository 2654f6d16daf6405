import { readBirdStatus } from "@portico/adapter-bird";
import { run } from "@portico/host";
import { checkResult, inNs, type CheckResult, type DoctorOptions } from "./doctor-check.js";

/**
 * checkBgp: for a config with a `bgp` section, that BIRD 2 is installed and answers on
 * `bgp.socket`, and that each peer's session is established, or else whether the peer answers
 * at all (one ping), so the fix names the right side.
 */
export const checkBgp = async (opts: DoctorOptions): Promise<CheckResult[]> => {
  const bgp = opts.config.bgp;
  if (bgp === undefined) return [];
  const version = await run("bird", ["--version"], { timeoutMs: 10_000 });
  const banner = version.isOk() ? (`${version.value.stdout}${version.value.stderr}`.trim().split("\n")[0] ?? "") : "";
  const installed = /BIRD version 2\./.test(banner)
    ? checkResult("OK", "bird installed", banner)
    : checkResult("FAIL", "bird installed", banner || "bird not found", "apt-get install -y bird2");
  const status = await readBirdStatus({ socket: bgp.socket, timeoutMs: 5_000 });
  if (status.isErr())
    return [
      installed,
      checkResult(
        "FAIL",
        "bird running",
        `no answer on ${bgp.socket} (config bgp.socket): ${status.error.message}`,
        "run portico apply (it starts BIRD) or systemctl start bird, with bgp.socket as its control socket",
      ),
    ];
  const results = [installed, checkResult("OK", "bird running", `answers on ${bgp.socket}`)];
  for (const peer of bgp.peers) {
    const name = `BGP peer ${peer.address}`;
    const session = status.value.protocols.find((p) => p.proto === "BGP" && p.neighbor === peer.address);
    if (session?.info === "Established") {
      const bfd = status.value.bfd.find((b) => b.address === peer.address)?.state ?? "off";
      results.push(checkResult("OK", name, `session established (AS ${peer.asn}), BFD ${bfd}`));
      continue;
    }
    const ping = await inNs(opts, "ping", ["-c", "1", "-W", "1", peer.address]);
    const answers = ping.isOk() && ping.value.code === 0;
    results.push(
      answers
        ? checkResult(
            "WARN",
            name,
            `answers ping, but the session is ${session?.info || session?.state || "not configured in BIRD"}`,
            `check the router's side: neighbor ${opts.node.address} as ${bgp.asn}, and TCP port 179 between them`,
          )
        : checkResult(
            "FAIL",
            name,
            `unreachable (no answer to ping) and the session is ${session?.info || session?.state || "absent"}`,
            `check the route to ${peer.address} from this node (ip route get ${peer.address})`,
          ),
    );
  }
  return results;
};
