// GET each URL until it answers 200 or <capMs> has passed (the lab runs it inside the client
// namespace to know the VIPs serve), then print one JSON line per URL: its status and body, or
// the last error. Exit 0 when every URL answered 200, else 1.
// Usage: node get.mjs <capMs> <url> [<url> ...]
const [capText = "0", ...urls] = process.argv.slice(2);
const until = Date.now() + Number(capText);

const once = async (url) => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { url, status: r.status, body: (await r.text()).trim() };
  } catch (e) {
    return { url, error: String(e.cause?.code ?? e.message) };
  }
};

const results = await Promise.all(
  urls.map(async (url) => {
    for (;;) {
      const r = await once(url);
      if (r.status === 200 || Date.now() > until) return r;
      await new Promise((done) => setTimeout(done, 100));
    }
  }),
);
for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
process.exit(results.every((r) => r.status === 200) ? 0 : 1);
