// The in-isolate microbenchmark: µs per request through keygate's own `fetch` and through the
// JavaScript reference's, in ONE workerd isolate (bench/micro-worker.mjs imports both), so that
// no HTTP server, socket or wrk thread is in the figure: only each Worker's request path, its
// glue and, for `unknown` and `valid`, its KV read or Durable Object call.
//
// For each run, route and Worker: one call to the wrapper's loop with n requests and one with
// n = 0, timed from here (workerd's clock stands still without I/O); (t_n - t_0) / n is the cost
// of one request. A warm-up loop precedes the runs. Runs are interleaved (every route and Worker
// once per run); the table shows the median of the runs, their spread (min–max) and the median
// of the per-run ratios keygate / reference (below 1.00: keygate is faster). A third target, the
// floor, makes each route's I/O alone (the body read, the KV read, a Durable Object RPC to a
// method that counts with one SQLite statement, a `Response`): the last column is each Worker's
// own cost above it.
//
//   npm run bench:micro                   5 runs (scripts/build.sh first: it measures build/worker)
//   node bench/micro.mjs --runs 9 --n 4000 --routes healthz,malformed
//   node bench/micro.mjs --routes valid --profile /tmp/valid.cpuprofile
//                                         also a V8 CPU profile of the timed runs (workerd's
//                                         inspector on 127.0.0.1), for Chrome DevTools or
//                                         speedscope; keep it outside the repository
// Not part of `npm test`: timings belong in bench/. `npm run bench` runs it too.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { keygateWorker, root } from "../tests/support/keygate.mjs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const RUNS = Number(args.runs ?? 5);
const N = Number(args.n ?? 2000);
const operator = "micro-operator";

// The Worker keygate deploys (every module scripts/build.sh puts in build/worker), the
// reference, and the wrapper, all named from the repository's root.
const dir = path.join(root, "build/worker");
const built = readdirSync(dir).map((f) => path.join(dir, f));
const base = keygateWorker({ adminToken: operator, assets: false });
const micro = {
  ...base,
  name: "micro",
  modulesRoot: root,
  modules: [
    { type: "ESModule", path: path.join(root, "bench/micro-worker.mjs") },
    ...built.filter((f) => /\.m?js$/.test(f)).map((p) => ({ type: "ESModule", path: p })),
    ...built.filter((f) => f.endsWith(".wasm")).map((p) => ({ type: "CompiledWasm", path: p })),
    { type: "ESModule", path: path.join(root, "bench/reference/worker.js") },
  ],
  kvNamespaces: { ...base.kvNamespaces, INDEX: "reference-index" },
  durableObjects: {
    ...base.durableObjects,
    KEYS: { className: "ReferenceKeyObject", useSQLite: true },
    FLOOR: { className: "FloorObject", useSQLite: true },
  },
};
const inspectorPort = args.profile ? Number(args["inspector-port"] ?? 9229) : undefined;
const mf = new Miniflare(convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, cf: false, inspectorPort, workers: [micro] }));
const url = (await mf.ready).href.replace(/\/$/, "");

async function call(p, { method = "POST", body, headers = {} } = {}) {
  const h = { "Content-Type": "application/json", ...headers };
  const r = await fetch(url + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// A team and a key for keygate, the same kind of key for the reference, never limited in practice.
const big = 1_000_000_000;
const team = await call("/v1/teams", {
  headers: { Authorization: `Bearer ${operator}` },
  body: { name: "micro", limits: { max_per_minute: big, max_per_hour: big } },
});
const auth = { Authorization: `Bearer ${team.api_key.key}` };
const unlimited = { plan: "enterprise", per_minute: big, per_hour: big };
const key = (await call("/v1/api-keys", { headers: auth, body: { name: "micro", permissions: ["tasks:read"], rate_limit: unlimited } })).key;
const refKey = (await call("/v1/api-keys", { headers: auth, body: { name: "for the reference" } })).key;
await call("/seed", { body: { key: refKey, permissions: ["tasks:read"], per_minute: big, per_hour: big } });

const verify = (k) => ({ method: "POST", path: "/v1/verify", body: k });
const ROUTES = {
  healthz: { n: N, expect: '"ok"', req: () => ({ method: "GET", path: "/healthz" }) },
  malformed: { n: N, expect: "malformed_key", req: () => verify('{"key":"sk_live_this-is-not-a-key"}') },
  // The same without a declared length (a streamed body): read in one bounded read.
  malformed_chunked: {
    n: N,
    expect: "malformed_key",
    req: () => ({ ...verify('{"key":"sk_live_this-is-not-a-key"}'), chunked: true }),
  },
  unknown: { n: N / 2, expect: "invalid_key", req: () => verify('{"key":"sk_live_0123456789ABCDEFGHIJKLMNOPQRSTUV28hqg7"}') },
  valid: {
    n: N / 4,
    expect: '"valid"',
    req: (t) => verify(JSON.stringify({ key: t === "keygate" ? key : refKey, permissions: ["tasks:read"] })),
  },
};
const routes = (args.routes ?? Object.keys(ROUTES).join(",")).split(",");
// `--targets keygate` measures (and profiles) keygate alone: no ratios then. `floor`: the route's
// I/O alone (bench/micro-worker.mjs), what no Worker can go below.
const targets = (args.targets ?? "keygate,reference,floor").split(",");

/** The V8 profiler of the isolate (workerd's inspector, the DevTools protocol), started. */
async function startProfiler(port) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, fail) => ((ws.onopen = ok), (ws.onerror = fail)));
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (pending.has(msg.id)) pending.get(msg.id)(msg.result), pending.delete(msg.id);
  };
  const send = (method, params = {}) =>
    new Promise((ok) => (pending.set(++id, ok), ws.send(JSON.stringify({ id, method, params }))));
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: Number(args["sample-us"] ?? 50) });
  await send("Profiler.start");
  return {
    async stop() {
      const { profile } = await send("Profiler.stop");
      ws.close();
      return profile;
    },
  };
}

async function loop(target, route, n) {
  const t0 = performance.now();
  const out = await call("/__loop", { body: { target, n, route, ...ROUTES[route].req(target) } });
  const ms = performance.now() - t0;
  if (n > 0 && target !== "floor" && !out.body.includes(ROUTES[route].expect)) {
    throw new Error(`${target} ${route}: expected ${ROUTES[route].expect}, got ${out.status} ${out.body}`);
  }
  return ms;
}

// Warm-up: every path compiled and every cache (KV index, objects) filled before timing.
for (const route of routes) for (const t of targets) await loop(t, route, Math.min(ROUTES[route].n, 500));

const profiler = args.profile ? await startProfiler(inspectorPort) : undefined;
const results = {}; // route -> target -> [µs per run]
for (let run = 0; run < RUNS; run++) {
  for (const route of routes) {
    for (const t of targets) {
      const n = ROUTES[route].n;
      const empty = await loop(t, route, 0);
      const full = await loop(t, route, n);
      ((results[route] ??= {})[t] ??= []).push(((full - empty) * 1000) / n);
    }
  }
}
if (profiler) writeFileSync(args.profile, JSON.stringify(await profiler.stop()));
await mf.dispose();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (x) => x.toFixed(1);
const spread = (xs) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
const TARGETS = { healthz: "<= 1.00", malformed: "<= 1.00", malformed_chunked: "(none)", unknown: "<= 1.00", valid: "<= 0.80" };
console.log(`keygate in-isolate microbenchmark: µs per request, ${RUNS} interleaved runs (medians, min–max), one workerd isolate, n = ${N} (unknown n/2, valid n/4)`);
console.log("floor: the route's I/O and a Response alone; above floor: each Worker's µs minus the floor's, per run (its own work)");
console.log(
  `${"route".padEnd(17)} ${"keygate µs".padStart(11)} ${"(spread)".padStart(13)} ${"JS ref µs".padStart(10)} ${"(spread)".padStart(13)} ${"floor µs".padStart(9)}  keygate/JS  target  above floor: keygate / JS`,
);
for (const route of routes) {
  const k = results[route].keygate ?? [NaN];
  const r = results[route].reference ?? [NaN];
  const fl = results[route].floor ?? k.map(() => NaN);
  const ratios = k.map((v, i) => v / r[i]);
  const own = (xs) => median(xs.map((v, i) => v - fl[i]));
  console.log(
    `${route.padEnd(17)} ${f(median(k)).padStart(11)} ${spread(k).padStart(13)} ${f(median(r)).padStart(10)} ${spread(r).padStart(13)} ${f(median(fl)).padStart(9)}  ${median(ratios).toFixed(2).padStart(10)}  ${TARGETS[route]} (ratios ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})  ${f(own(k))} / ${f(own(r))}`,
  );
}
