// GETs each URL until it answers 200 or <capMs> has passed, then prints one JSON line per URL:
// its status and trimmed body, or the last error. Exits 0 when every URL answered 200, else 1.
//   node http-get.js <capMs> <url> [<url> ...]
const [capText = "0", ...urls] = process.argv.slice(2);
const until = Date.now() + Number(capText);

type Got = { url: string; status: number; body: string } | { url: string; error: string };

const once = async (url: string): Promise<Got> => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { url, status: r.status, body: (await r.text()).trim() };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { url, error: String(err.cause?.code ?? err.message) };
  }
};

const results = await Promise.all(
  urls.map(async (url) => {
    for (;;) {
      const r = await once(url);
      if (("status" in r && r.status === 200) || Date.now() > until) return r;
      await new Promise((done) => setTimeout(done, 100));
    }
  }),
);
for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
process.exit(results.every((r) => "status" in r && r.status === 200) ? 0 : 1);
