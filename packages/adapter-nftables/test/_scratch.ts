import { NetnsLab } from "@portico/testkit";

// One scratch network namespace with an eth0 (the fixtures' LB interface) for the whole file:
// nft checks that a netdev chain's device exists, and loading a ruleset must never touch the
// host's own tables.
let lab: NetnsLab | undefined;
let made: Promise<string> | undefined;

/** The scratch namespace, made on first use. */
export const scratchNetns = (): Promise<string> =>
  (made ??= (async () => {
    lab = new NetnsLab();
    const ns = await lab.add("nft");
    await lab.addInterface(ns, "eth0");
    return ns;
  })());

/** Remove the scratch namespace (safe when it was never made). */
export const removeScratch = async (): Promise<void> => {
  await lab?.destroy();
};
