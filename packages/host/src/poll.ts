/**
 * pollUntil asks `check` every `everyMs` (default 20 ms) until it says true or `timeoutMs` has
 * passed; whether it came true. For a daemon's own signs of life (a pid file, a socket), which
 * come by no event.
 */
export const pollUntil = async (check: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
};
