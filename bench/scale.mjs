// Verification at scale: does a key cost more to verify when its team has 100,000 keys than
// when it has 100? Serves keygate in workerd (Miniflare, in memory), makes a team through the API,
// seeds keys with the worker's own types (bench/seed_keys.rs) straight into the key objects
// (their RPC `call`, the same `Create` the API sends) and the KV index, then drives wrk on
// `POST /v1/verify` with a key drawn at random per request from a sample of 100 keys: first with
// 100 keys in all, then with 100,000 (a fresh random sample of them). The working set is the same
// size in both, so the difference is what the population itself costs (KV and object lookups).
//
// Not part of `npm test`; `npm run bench` runs it when BENCH_SCALE=1 (it takes ~10 minutes).
//
//   node bench/scale.mjs [--keys 100000] [--sample 100] [--seconds 10] [--rounds 3]
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";
import { keygateWorker, root } from "../tests/support/keygate.mjs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const total = Number(args.keys ?? 100_000);
const sampleSize = Number(args.sample ?? 100);
const seconds = Number(args.seconds ?? 10);
const rounds = Number(args.rounds ?? 3);
const operator = "scale-operator";

// Storage on disk, not in memory: 100,000 objects' SQLite databases would not fit in memory.
const work = mkdtempSync(path.join(tmpdir(), "keygate-scale-"));
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    resourcePersistencePath: path.join(work, "state"),
    workers: [
      keygateWorker({ adminToken: operator, assets: false }),
      {
        name: "seeder",
        routes: ["seeder.bench/*"],
        modules: true,
        scriptPath: path.join(root, "bench/seeder.js"),
        compatibilityDate: "2026-10-01",
        kvNamespaces: { KEY_INDEX: "keygate-key-index" },
        durableObjects: { KEY_OBJECTS: { className: "KeyObject", scriptName: "keygate" } },
      },
    ],
  }),
);
const base = (await mf.ready).href.replace(/\/$/, "");
try {
  const created = await (
    await fetch(`${base}/v1/teams`, {
      method: "POST",
      headers: { Authorization: `Bearer ${operator}`, "Content-Type": "application/json" },
            // The seeded keys are never rate limited in practice (1e9 a minute), within these limits.
      body: JSON.stringify({
        name: "scale",
        limits: { max_keys: total + 10, max_per_minute: 1e9, max_per_hour: 1e9 },
      }),
    })
  ).json();
  const team = created.team;
  if (!team?.id) throw new Error(`creating the team: ${JSON.stringify(created)}`);
  execFileSync("cargo", ["build", "-q", "--release", "--example", "seed_keys"], { cwd: root, stdio: "inherit" });
  const maker = spawn(path.join(root, "target/release/examples/seed_keys"), [team.id, String(total)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: maker.stdout })[Symbol.asyncIterator]();
  const seeded = [];

  // Delivers keys until `upTo` are in: batches of 200 lines to the seeder, 4 in flight.
  async function seed(upTo) {
    const started = Date.now();
    const from = seeded.length;
    let taken = seeded.length;
    async function one() {
      while (taken < upTo) {
        const n = Math.min(200, upTo - taken);
        taken += n;
        const batch = [];
        for (let i = 0; i < n; i++) {
          const next = await lines.next();
          if (next.done) throw new Error("the key maker stopped early");
          seeded.push(JSON.parse(next.value).key);
          batch.push(next.value);
        }
        const r = await mf.dispatchFetch("http://seeder.bench/seed", { method: "POST", body: batch.join("\n") });
        if (r.status !== 204) throw new Error(`seeding: ${r.status} ${await r.text()}`);
      }
    }
    await Promise.all(Array.from({ length: 4 }, one));
    const s = (Date.now() - started) / 1000;
    process.stderr.write(`seeded ${seeded.length - from} keys in ${s.toFixed(1)} s (${seeded.length} in all)\n`);
  }

  // p50/p99 (ms) and req/s of wrk verifying a random key of `sample` per request.
  function measure(sample, label) {
    const script = path.join(work, `${label}.lua`);
    writeFileSync(
      script,
      `local keys = {${sample.map((k) => `"${k}"`).join(",")}}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, nil, nil, '{"key":"' .. keys[math.random(#keys)] .. '","permissions":["tasks:read"]}')
end
`,
    );
    const run = (secs) =>
      execFileSync("wrk", ["-t2", "-c32", `-d${secs}s`, "--latency", "-s", script, `${base}/v1/verify`], {
        encoding: "utf8",
      });
    run(2); // warm-up: the sample's objects and index entries, as a live service has them
    const ms = (v) => (v.endsWith("us") ? parseFloat(v) / 1000 : v.endsWith("ms") ? parseFloat(v) : parseFloat(v) * 1000);
    const results = [];
    for (let r = 0; r < rounds; r++) {
      const out = run(seconds);
      if (/Non-2xx/.test(out)) throw new Error(`non-2xx answers in ${label}:\n${out}`);
      results.push({
        rps: parseFloat(out.match(/Requests\/sec:\s+([\d.]+)/)[1]),
        p50: ms(out.match(/^\s+50%\s+(\S+)/m)[1]),
        p99: ms(out.match(/^\s+99%\s+(\S+)/m)[1]),
      });
    }
    const median = (f) => results.map(f).sort((a, b) => a - b)[Math.floor(results.length / 2)];
    return { rps: median((x) => x.rps), p50: median((x) => x.p50), p99: median((x) => x.p99) };
  }
  const pick = (all, n) => {
    const copy = [...all];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, n);
  };

  await seed(sampleSize);
  const small = measure(pick(seeded, sampleSize), "small");
  await seed(total);
  maker.kill();
  const large = measure(pick(seeded, sampleSize), "large");
  const row = (n, m) =>
    `${String(n).padStart(8)} keys   ${m.rps.toFixed(0).padStart(7)} req/s   p50 ${m.p50.toFixed(2)} ms   p99 ${m.p99.toFixed(2)} ms`;
  console.log(`verification at scale: wrk -t2 -c32 -d${seconds}s, ${rounds} rounds (medians), a random key of ${sampleSize} per request`);
  console.log(row(sampleSize, small));
  console.log(row(total, large));
  console.log(`p50 at ${total} / p50 at ${sampleSize} = ${(large.p50 / small.p50).toFixed(2)} (target <= 1.10)`);
} finally {
  await mf.dispose();
  rmSync(work, { recursive: true, force: true });
}
