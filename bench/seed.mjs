// Seeds keys for the listing benchmark through the API, a few requests in flight, and prints
// the cursor of page `--page` of `GET /v1/api-keys?limit=100` (walking the pages before it).
//
//   node bench/seed.mjs --base URL --key ADMIN_KEY --count 10000 --page 100
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const base = args.base;
const auth = { Authorization: `Bearer ${args.key}` };
const count = Number(args.count ?? 10000);
const page = Number(args.page ?? 100);
const inFlight = 16;

let made = 0;
async function worker() {
  while (made < count) {
    const n = made++;
    const r = await fetch(`${base}/v1/api-keys`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ name: `bench key ${n}`, permissions: ["tasks:read"] }),
    });
    if (r.status !== 201) throw new Error(`seeding: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  }
}
const started = Date.now();
await Promise.all(Array.from({ length: inFlight }, worker));
process.stderr.write(`seeded ${count} keys in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

let cursor = "";
for (let p = 1; p < page; p++) {
  const query = cursor ? `limit=100&cursor=${cursor}` : "limit=100";
  const r = await fetch(`${base}/v1/api-keys?${query}`, { headers: auth });
  const body = await r.json();
  if (!body.next_cursor) throw new Error(`page ${p} has no next page`);
  cursor = body.next_cursor;
}
process.stdout.write(`${cursor}\n`);
