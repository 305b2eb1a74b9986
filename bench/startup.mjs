// Startup: how long a fresh keygate takes to answer, in workerd (Miniflare). Each run starts a
// new workerd (so new isolates: the modules loaded, the wasm compiled, the global scope run) on
// state seeded once (a team and a key on disk), then times, from `new Miniflare(...)`:
//   healthz   the first `GET /healthz` answered (runs of their own)
//   verify    the first valid `POST /v1/verify` answered (runs of their own: the key object,
//             its SQLite and the KV index met for the first time too)
//   floor     the same for a one-line JavaScript Worker: what workerd itself costs to start,
//             to subtract from the others
// Medians of the runs. (node's own V8 cannot compile these modules, so the wasm compile is not
// timed apart: it is inside the time over the floor, with the glue's and the first call's.)
//
//   node bench/startup.mjs [--runs 7]                 the Worker in build/worker (scripts/build.sh)
//   node bench/startup.mjs --three /tmp/main-old      and beside it keygate before version 1.2 (three
//                                                     Workers), built in a checkout of it
// Not part of `npm test` (timings belong in bench/); `npm run bench` runs it too.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { keygateWorker, root } from "../tests/support/keygate.mjs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const runs = Number(args.runs ?? 7);
const operator = "startup-operator";

// The builds to measure: this one, and with `--three DIR` keygate before version 1.2 (three
// Workers) built in a checkout of it, measured in the same rounds so that the machine's load
// falls on both alike.
const builds = [
  {
    name: "one Worker (build/worker)",
    workers: () => [keygateWorker({ adminToken: operator, assets: false })],
    wasm: [["worker", path.join(root, "build/worker/index_bg.wasm")]],
  },
];
if (args.three) {
  const dir = path.resolve(args.three);
  // Its own definition of its three Workers (tests/support/keygate.mjs of that checkout).
  const old = await import(pathToFileURL(path.join(dir, "tests/support/keygate.mjs")).href);
  builds.push({
    name: `three Workers (${dir}/build)`,
    workers: () => old.keygateWorkers({ adminToken: operator, assets: false }),
    wasm: ["edge", "admin", "events"].map((w) => [w, path.join(dir, "build", w, "index_bg.wasm")]),
  });
  // In production each of the three Workers had isolates of its own, started on demand: a
  // verification started only the edge's. Here workerd starts every Worker it serves, so the
  // edge is served alone too, the other two replaced by one-line JavaScript stubs of the same
  // names and classes (its bindings must resolve; a verification does not wait on them).
  const stub = (name, binding, className) => ({
    name,
    modules: true,
    compatibilityDate: "2026-10-01",
    script: `import { DurableObject } from "cloudflare:workers";
      export class ${className} extends DurableObject { call() { return "{}"; } }
      export default { fetch() { return new Response("stub", { status: 503 }); } };`,
    durableObjects: { [binding]: { className, useSQLite: true } },
  });
  builds.push({
    name: "three Workers: the edge alone (what a verification started)",
    workers: () => [
      old.keygateWorkers({ adminToken: operator, assets: false })[0],
      stub("keygate-admin", "TEAM_OBJECTS", "TeamObject"),
      stub("keygate-events", "EVENTS_OBJECTS", "EventsObject"),
    ],
    wasm: [["edge", path.join(dir, "build/edge/index_bg.wasm")]],
    seedWith: builds[1],
  });
}

const FLOOR = [{ name: "floor", modules: true, compatibilityDate: "2026-10-01", script: "export default { fetch() { return new Response('ok'); } };" }];

async function serve(workerList, persist) {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      ...(persist ? { resourcePersistencePath: persist } : {}),
      workers: workerList,
    }),
  );
  const url = (await mf.ready).href.replace(/\/$/, "");
  return { mf, url };
}

async function json(url, init) {
  const r = await fetch(url, init);
  const body = await r.json();
  if (!r.ok) throw new Error(`${init?.method ?? "GET"} ${url}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

// The state every run starts from: a team and a key, on disk, one copy per build.
async function seed(build) {
  build.seeded = mkdtempSync(path.join(tmpdir(), "keygate-startup-"));
  const { mf, url } = await serve(build.workers(), path.join(build.seeded, "state"));
  try {
    const team = await json(`${url}/v1/teams`, {
      method: "POST",
      headers: { Authorization: `Bearer ${operator}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "startup" }),
    });
    const created = await json(`${url}/v1/api-keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${team.api_key.key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "startup", permissions: ["tasks:read"] }),
    });
    build.key = created.key;
    // Verified once here, so that every timed run finds the key's object as a later request would.
    const body = JSON.stringify({ key: build.key });
    await json(`${url}/v1/verify`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  } finally {
    await mf.dispose();
  }
}
for (const b of builds) {
  if (b.seedWith) {
    // The same state as the build it is a part of (the key object is the edge's).
    b.seeded = mkdtempSync(path.join(tmpdir(), "keygate-startup-"));
    cpSync(path.join(b.seedWith.seeded, "state"), path.join(b.seeded, "state"), { recursive: true });
    b.key = b.seedWith.key;
  } else {
    await seed(b);
  }
}

/** Milliseconds from a fresh workerd to the answer of `request`, on a copy of the seeded state. */
async function once(workerList, request, seeded) {
  const persist = mkdtempSync(path.join(tmpdir(), "keygate-startup-run-"));
  if (seeded) cpSync(path.join(seeded, "state"), path.join(persist, "state"), { recursive: true });
  const t0 = performance.now();
  const { mf, url } = await serve(workerList, path.join(persist, "state"));
  const r = await request(url);
  const ms = performance.now() - t0;
  await mf.dispose();
  rmSync(persist, { recursive: true, force: true });
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const floor = [];
for (const b of builds) b.timings = { healthz: [], verify: [] };
for (let i = 0; i < runs; i++) {
  // Interleaved, so that a slow moment of the machine costs each kind alike.
  floor.push(await once(FLOOR, async (url) => (await fetch(url)).text()));
  for (const b of builds) {
    b.timings.healthz.push(
      await once(b.workers(), async (url) => {
        const r = await fetch(`${url}/healthz`);
        if (r.status !== 200) throw new Error(`/healthz: ${r.status}`);
        return r.text();
      }, b.seeded),
    );
    b.timings.verify.push(
      await once(b.workers(), async (url) => {
        const body = await json(`${url}/v1/verify`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ key: b.key, permissions: ["tasks:read"] }),
        });
        if (body.valid !== true) throw new Error(`verify: ${JSON.stringify(body)}`);
      }, b.seeded),
    );
  }
}

const f = (xs) => `${median(xs).toFixed(0)} ms`;
const over = (xs) => `${(median(xs) - median(floor)).toFixed(0)} ms`;
console.log(`startup: a fresh workerd to its first answer, median of ${runs} runs (floor, a one-line JS Worker: ${f(floor)})`);
for (const b of builds) {
  const sizes = b.wasm.map(([name, file]) => `${name} ${statSync(file).size.toLocaleString("en")}`);
  console.log(`  ${b.name}`);
  console.log(`    first /healthz:        ${f(b.timings.healthz)} (${over(b.timings.healthz)} over the floor)`);
  console.log(`    first valid verify:    ${f(b.timings.verify)} (${over(b.timings.verify)} over the floor)`);
  console.log(`    wasm (bytes):          ${sizes.join("; ")}`);
  rmSync(b.seeded, { recursive: true, force: true });
}
