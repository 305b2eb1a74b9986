// The gateway end to end: keygate (the built Worker, real KV and Durable Objects) and the gateway
// in one Miniflare, the gateway bound to keygate's `Verifier` entrypoint as wrangler.toml binds
// it, in front of a small origin this test runs on 127.0.0.1. Run: sh scripts/examples.sh.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { keygateWorker, root } from "../../../tests/support/keygate.mjs";

const ADMIN = "test-admin-token";
const ROUTES = [
  { method: "GET", path: "/tasks", permissions: ["tasks:read"] },
  { method: "GET", path: "/tasks/:id", permissions: ["tasks:read"] },
  { method: "*", path: "/tasks/*", permissions: ["tasks:write"] },
  { method: "POST", path: "/uploads/*", permissions: ["uploads:write"] },
];

let origin, originUrl, mf, gateway, keygate, seen;

/** The origin: answers what it received (method, path, headers, the body's length and hash). */
function startOrigin() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const hash = crypto.createHash("sha256");
      let length = 0;
      req.on("data", (chunk) => {
        length += chunk.length;
        hash.update(chunk);
      });
      req.on("end", () => {
        seen.push(req.url);
        const body = JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          length,
          sha256: hash.digest("hex"),
        });
        res.writeHead(201, { "Content-Type": "application/json", "X-Origin": "yes" });
        res.end(body);
      });
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

async function admin(method, p, token, body) {
  const res = await keygate.fetch(`http://keygate.test${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function newKey(body) {
  const team = await admin("POST", "/v1/teams", ADMIN, { name: `Gateway ${crypto.randomUUID()}` });
  const key = await admin("POST", "/v1/api-keys", team.api_key.key, body);
  return { ...key, team_id: team.team.id, admin: team.api_key.key };
}

before(async () => {
  seen = [];
  origin = await startOrigin();
  originUrl = `http://127.0.0.1:${origin.address().port}`;
  const kg = keygateWorker({ assets: false });
  mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      workers: [
        {
          name: "gateway",
          modules: true,
          scriptPath: path.join(root, "examples/gateway/src/index.js"),
          compatibilityDate: "2026-10-01",
          bindings: { ORIGIN: originUrl, ROUTES: JSON.stringify(ROUTES) },
          serviceBindings: { KEYGATE: { name: "keygate", entrypoint: "Verifier" } },
        },
        { ...kg, routes: ["keygate.test/*"] },
      ],
    }),
  );
  gateway = (await mf.ready).href.replace(/\/$/, "");
  keygate = await mf.getWorker("keygate");
});

after(async () => {
  await mf?.dispose();
  origin?.close();
});

test("wrangler.toml binds the Verifier entrypoint and sets ORIGIN and ROUTES", () => {
  const toml = fs.readFileSync(path.join(root, "examples/gateway/wrangler.toml"), "utf8");
  assert.match(toml, /\[\[services\]\]\s*binding = "KEYGATE"\s*service = "keygate"\s*entrypoint = "Verifier"/);
  const routes = JSON.parse(toml.match(/ROUTES = '''([\s\S]*?)'''/)[1]);
  assert.ok(routes.every((r) => r.method && r.path && Array.isArray(r.permissions)));
  assert.match(toml, /ORIGIN = "https:\/\//);
});

test("an admitted request reaches the origin without the key, with the key's identity and rate-limit headers", async () => {
  const k = await newKey({ name: "reader", permissions: ["tasks:read"], rate_limit: { plan: "enterprise", per_minute: 50, per_hour: 500 } });
  const res = await fetch(`${gateway}/tasks/7?full=1`, {
    headers: {
      Authorization: `Bearer ${k.key}`,
      // Spoofed identity: removed before the request goes on.
      "X-Keygate-Key-Id": "key_spoofed",
      "X-Keygate-Team-Id": "team_spoofed",
      "X-Keygate-Project-Id": "proj_spoofed",
      "X-Keygate-Permissions": "admin:*",
      "X-Other": "kept",
    },
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-origin"), "yes");
  assert.equal(res.headers.get("x-ratelimit-limit"), "50");
  assert.equal(res.headers.get("x-ratelimit-remaining"), "49");
  const got = await res.json();
  assert.equal(got.method, "GET");
  assert.equal(got.url, "/tasks/7?full=1");
  assert.equal(got.headers["authorization"], undefined);
  assert.equal(got.headers["x-api-key"], undefined);
  assert.equal(got.headers["x-keygate-key-id"], k.id);
  assert.equal(got.headers["x-keygate-team-id"], k.team_id);
  assert.equal(got.headers["x-keygate-project-id"], undefined, "no project: no header, the spoofed one gone");
  assert.equal(got.headers["x-keygate-permissions"], "tasks:read");
  assert.equal(got.headers["x-other"], "kept");
  assert.ok(!JSON.stringify(got.headers).includes(k.key), "the key never reaches the origin");
  // X-API-Key works the same; the same key in both headers too.
  const viaHeader = await fetch(`${gateway}/tasks`, { headers: { "X-API-Key": k.key } });
  assert.equal(viaHeader.status, 201);
  assert.equal((await viaHeader.json()).headers["x-api-key"], undefined);
  const both = await fetch(`${gateway}/tasks`, { headers: { "X-API-Key": k.key, Authorization: `Bearer ${k.key}` } });
  assert.equal(both.status, 201);
  await both.arrayBuffer();
  // The gateway's verifications are the key's requests, counted like HTTP ones.
  const rl = await admin("GET", "/v1/rate-limit", k.key);
  assert.equal(rl.remaining, 47);
});

test("a 10 MB body is streamed to the origin intact", async () => {
  const k = await newKey({ name: "uploader", permissions: ["uploads:write"] });
  const size = 10 * 1024 * 1024;
  const chunk = crypto.randomBytes(64 * 1024);
  const hash = crypto.createHash("sha256");
  let sent = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      hash.update(chunk);
      sent += chunk.length;
      controller.enqueue(new Uint8Array(chunk));
    },
  });
  const res = await fetch(`${gateway}/uploads/big.bin`, {
    method: "POST",
    headers: { "X-API-Key": k.key, "Content-Type": "application/octet-stream" },
    body,
    duplex: "half",
  });
  assert.equal(res.status, 201);
  const got = await res.json();
  assert.equal(got.length, size);
  assert.equal(got.sha256, hash.digest("hex"));
  assert.equal(got.headers["transfer-encoding"], "chunked", "sent on as a stream, not buffered into one length");
});

test("refusals are keygate's problems and never reach the origin", async () => {
  // The key's two requests a minute are spent below: not across a minute's boundary (keygate's
  // windows are aligned to the clock, so the next minute rightly admits again).
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
  const before = seen.length;
  const k = await newKey({ name: "reader", permissions: ["tasks:read"], rate_limit: { plan: "enterprise", per_minute: 2, per_hour: 100 } });
  const problemOf = async (res, status, code) => {
    assert.equal(res.status, status);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    const p = await res.json();
    assert.equal(p.code, code);
    assert.equal(p.status, status);
    assert.ok(p.title && p.detail && p.type === `urn:keygate:problem:${code}`);
    return p;
  };
  // 401: no key, a malformed one, an unknown one: as keygate answers them itself.
  await problemOf(await fetch(`${gateway}/tasks`), 401, "missing_key");
  const bad = await fetch(`${gateway}/tasks`, { headers: { Authorization: "Bearer nope" } });
  assert.equal(bad.headers.get("www-authenticate"), "Bearer");
  await problemOf(bad, 401, "malformed_key");
  const own = await keygate.fetch("http://keygate.test/v1/api-keys/current", { headers: { Authorization: "Bearer nope" } });
  assert.equal(own.status, 401);
  assert.equal((await own.json()).code, "malformed_key");
  // Two different keys: 400.
  await problemOf(await fetch(`${gateway}/tasks`, { headers: { Authorization: `Bearer ${k.key}`, "X-API-Key": "sk_other" } }), 400, "ambiguous_credentials");
  // 403 by route: writing needs tasks:write, which this key lacks.
  const forbidden = await fetch(`${gateway}/tasks/7`, { method: "DELETE", headers: { "X-API-Key": k.key } });
  assert.equal(forbidden.headers.get("x-ratelimit-limit"), "2");
  await problemOf(forbidden, 403, "insufficient_permissions");
  // 404: no route, whatever the key.
  await problemOf(await fetch(`${gateway}/admin`, { headers: { "X-API-Key": k.key } }), 404, "not_found");
  await problemOf(await fetch(`${gateway}/uploads/x`, { headers: { "X-API-Key": k.key } }), 404, "not_found");
  // 429: the key's two requests a minute, then refused with Retry-After.
  for (let i = 0; i < 2; i++) {
    const ok = await fetch(`${gateway}/tasks`, { headers: { "X-API-Key": k.key } });
    assert.equal(ok.status, 201);
    await ok.arrayBuffer();
  }
  const limited = await fetch(`${gateway}/tasks`, { headers: { "X-API-Key": k.key } });
  const retry = Number(limited.headers.get("retry-after"));
  assert.ok(retry >= 1 && retry <= 60, `${retry}`);
  assert.equal(limited.headers.get("x-ratelimit-remaining"), "0");
  await problemOf(limited, 429, "rate_limited");
  // 401 for a disabled key, on the very next request.
  const d = await newKey({ name: "soon off", permissions: ["tasks:read"] });
  assert.equal((await fetch(`${gateway}/tasks`, { headers: { "X-API-Key": d.key } }).then(async (r) => (await r.arrayBuffer(), r))).status, 201);
  await admin("POST", `/v1/api-keys/${d.id}/disable`, d.admin, {});
  await problemOf(await fetch(`${gateway}/tasks`, { headers: { "X-API-Key": d.key } }), 401, "disabled_key");
  assert.equal(seen.length - before, 3, "only the admitted requests reached the origin");
});

test("the gateway's added latency against the origin hit directly (median of 200)", async () => {
  const k = await newKey({ name: "bench", permissions: ["tasks:read"], rate_limit: { plan: "enterprise", per_minute: 5000, per_hour: 50000 } });
  const time = async (url, headers) => {
    const t = [];
    for (let i = 0; i < 220; i++) {
      const s = performance.now();
      const r = await fetch(url, { headers });
      await r.arrayBuffer();
      assert.equal(r.status, 201);
      if (i >= 20) t.push(performance.now() - s);
    }
    t.sort((a, b) => a - b);
    return t[t.length >> 1];
  };
  const direct = await time(`${originUrl}/tasks/1`, {});
  const through = await time(`${gateway}/tasks/1`, { "X-API-Key": k.key });
  const line = `gateway: median ${through.toFixed(2)} ms, origin direct ${direct.toFixed(2)} ms, added ${(through - direct).toFixed(2)} ms`;
  console.log(line);
  if (process.env.GATEWAY_BENCH_OUT) fs.writeFileSync(process.env.GATEWAY_BENCH_OUT, `${line}\n`);
  assert.ok(through > direct, "the gateway cannot be faster than the origin it calls");
});
