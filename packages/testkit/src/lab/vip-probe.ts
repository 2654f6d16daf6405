// Watches which LB node answers a VIP, run in a client namespace:
//   node vip-probe.js <vip> <port> <until> <maxMs> [<readyFile>]
// where <until> is `not:lb1,lb2` (stop at the first answer from any other node) or `is:lb1`. It
// connects over and over (each attempt capped at 60 ms, at most one in flight), sends an HTTP/1.0
// request, reads which LB node answered, and prints one JSON VipProbeResult: every change of
// outcome with its wall-clock time, and the first answer that met <until> (or null at maxMs). It
// creates <readyFile> once it has had its first answer (or has given up), so a test acts only
// after the probe has seen the VIP served, however long Node took to start.
import { writeFileSync } from "node:fs";
import { askHttp } from "../ask.js";
import type { VipProbeResult } from "./programs.js";

const [vip = "", port = "0", until = "", maxText = "0", readyFile = ""] = process.argv.slice(2);
let ready = readyFile === "";
const signalReady = (): void => {
  if (!ready) writeFileSync(readyFile, "");
  ready = true;
};
const [mode, list = ""] = until.split(":");
const names = new Set(list.split(",").filter(Boolean));
const wanted = (name: string): boolean => (mode === "is" ? names.has(name) : !names.has(name));
const maxMs = Number(maxText);

// The outcome as one string, so a change of outcome is a change of string.
const attempt = async (): Promise<string> => {
  const o = await askHttp(vip, Number(port), 60);
  return o.kind === "answer" ? `answer:${o.body}` : o.kind === "error" ? `error:${o.code}` : o.kind;
};

const started = Date.now();
const events: { t: number; outcome: string }[] = [];
let first: VipProbeResult["first"] = null;
let attempts = 0;
while (Date.now() - started < maxMs) {
  const t = Date.now();
  const outcome = await attempt();
  attempts++;
  if (events.length === 0 || events[events.length - 1]!.outcome !== outcome) events.push({ t, outcome });
  if (outcome.startsWith("answer:")) signalReady();
  if (outcome.startsWith("answer:") && wanted(outcome.slice(7))) {
    first = { t: Date.now(), answer: outcome.slice(7) };
    break;
  }
  if (outcome !== "timeout") await new Promise((r) => setTimeout(r, 5));
}
signalReady();
const result: VipProbeResult = { started, attempts, events, first };
process.stdout.write(`${JSON.stringify(result)}\n`);
