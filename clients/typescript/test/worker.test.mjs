// The Hono middleware inside a Worker in workerd (Miniflare), verifying through a real service
// binding over RPC (`env.KEYGATE.verify(...)`) to keygate's own `Verifier` entrypoint: keygate's
// built Worker (build/worker, as tests/support/keygate.mjs defines it) and the product's Worker in
// one Miniflare, the keys made through keygate's API in that same Miniflare.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createKeygate } from "../dist/index.js";
import { inOneMinute, newTeam } from "./keygate.mjs";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const root = path.join(pkg, "../..");
// Miniflare and esbuild are the repository's own (its package.json), not this package's.
const { Miniflare, convertV4MiniflareOptions } = await import(createRequire(path.join(root, "package.json")).resolve("miniflare"));
const { keygateWorker } = await import(path.join(root, "tests/support/keygate.mjs"));
const OPERATOR = "client-worker-operator";

let mf, kg, dir;
before(async () => {
  // Inside the package: workerd loads no module from above the directory it starts in.
  dir = path.join(pkg, "test/.build");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bundle = path.join(dir, "product.mjs");
  execFileSync(path.join(root, "node_modules/.bin/esbuild"), [
    path.join(pkg, "test/worker/product.mjs"), "--bundle", "--format=esm", "--platform=neutral",
    `--outfile=${bundle}`, "--log-level=warning",
  ], { cwd: pkg, stdio: "inherit" });
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      workers: [
        // keygate first: Miniflare's URL serves it (its API makes the team and keys below).
        keygateWorker({ assets: false, adminToken: OPERATOR }),
        {
          name: "product",
          modules: true,
          scriptPath: bundle,
          compatibilityDate: "2026-10-01",
          routes: ["product.test/*"],
          serviceBindings: { KEYGATE: { name: "keygate", entrypoint: "Verifier" } },
        },
      ],
    }),
  );
  const url = await miniflare.ready;
  mf = miniflare;
  const server = { baseUrl: url.href.replace(/\/$/, ""), operatorToken: OPERATOR };
  const { adminKey } = await newTeam(server, "ts-client worker");
  kg = createKeygate({ baseUrl: server.baseUrl, token: adminKey });
});
after(async () => {
  await mf?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const get = (headers = {}) => mf.dispatchFetch("http://product.test/tasks/mine", { headers });

test("through the binding: 200 with the verification and the rate-limit headers", async () => {
  const key = await kg.keys.create({ name: "worker reader", permissions: ["tasks:read"] });
  const res = await get({ Authorization: `Bearer ${key.key}` });
  assert.equal(res.status, 200);
  const v = await res.json();
  assert.deepEqual([v.valid, v.code, v.key_id], [true, "valid", key.id]);
  assert.equal(res.headers.get("X-RateLimit-Limit"), "100");
  assert.equal(res.headers.get("X-RateLimit-Remaining"), "99");
});

test("through the binding: 401, 403 and 429 as problem+json", async () => {
  assert.equal((await get()).status, 401);
  const writer = await kg.keys.create({ name: "worker writer", permissions: ["tasks:write"] });
  const forbidden = await get({ "X-API-Key": writer.key });
  assert.equal(forbidden.status, 403);
  assert.equal((await forbidden.json()).code, "insufficient_permissions");
  await inOneMinute();
  const slow = await kg.keys.create({ name: "worker slow", permissions: ["tasks:read"], rate_limit: { per_minute: 1 } });
  assert.equal((await get({ "X-API-Key": slow.key })).status, 200);
  const limited = await get({ "X-API-Key": slow.key });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("Content-Type"), "application/problem+json");
  assert.equal((await limited.json()).code, "rate_limited");
  assert.ok(Number(limited.headers.get("Retry-After")) >= 1);
});
