// The Hono middleware in a plain Node Hono app, verifying over HTTP against a running keygate:
// 401 (missing, malformed, disabled), 400 for two different keys, 403 for a missing permission,
// 429 past the key's limit, and 200 with the verification on the context and the rate-limit headers.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Hono } from "hono";
import { createKeygate, createVerifier } from "../dist/index.js";
import { keygate } from "../dist/hono.js";
import { inOneMinute, newTeam, startKeygate } from "./keygate.mjs";

let server, kg, app, teamId;
before(async () => {
  server = await startKeygate();
  const { adminKey, team } = await newTeam(server, "ts-client hono");
  teamId = team.id;
  kg = createKeygate({ baseUrl: server.baseUrl, token: adminKey });
  app = new Hono();
  app.use("/tasks/*", keygate({ permissions: ["tasks:read"], baseUrl: server.baseUrl }));
  app.get("/tasks/mine", (c) => c.json({ key_id: c.get("keygate").key_id, team_id: c.get("keygate").team_id }));
  app.get("/tasks/raw", () => new Response("raw"));
});
after(() => server?.stop());

const get = (path, headers = {}, env) => app.fetch(new Request(`http://product.test${path}`, { headers }), env);

async function problemOf(res) {
  assert.equal(res.headers.get("Content-Type"), "application/problem+json");
  const body = await res.json();
  assert.equal(body.status, res.status);
  assert.equal(body.type, `urn:keygate:problem:${body.code}`);
  return body;
}

test("200: the verification on the context, the rate-limit headers on the answer", async () => {
  const key = await kg.keys.create({ name: "reader", permissions: ["tasks:read"] });
  const res = await get("/tasks/mine", { Authorization: `Bearer ${key.key}` });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { key_id: key.id, team_id: teamId });
  assert.equal(res.headers.get("X-RateLimit-Limit"), "100");
  assert.equal(res.headers.get("X-RateLimit-Remaining"), "99");
  assert.match(res.headers.get("X-RateLimit-Reset"), /^\d+$/);
  // X-API-Key works too, and so does the same key in both headers; the handler's own Response too.
  const viaHeader = await get("/tasks/raw", { "X-API-Key": key.key });
  assert.equal(viaHeader.status, 200);
  assert.equal(await viaHeader.text(), "raw");
  assert.equal(viaHeader.headers.get("X-RateLimit-Remaining"), "98");
  assert.equal((await get("/tasks/mine", { Authorization: `Bearer ${key.key}`, "X-API-Key": key.key })).status, 200);
});

test("401 for a missing, malformed or disabled key; 400 for two different keys", async () => {
  const missing = await get("/tasks/mine");
  assert.equal(missing.status, 401);
  assert.equal(missing.headers.get("WWW-Authenticate"), "Bearer");
  assert.equal((await problemOf(missing)).code, "missing_key");

  const scheme = await get("/tasks/mine", { Authorization: "Token abc" });
  assert.equal((await problemOf(scheme)).code, "malformed_key");
  const typo = await get("/tasks/mine", { Authorization: "Bearer sk_live_typo" });
  assert.equal(typo.status, 401);
  assert.equal((await problemOf(typo)).code, "malformed_key");

  const a = await kg.keys.create({ name: "a", permissions: ["tasks:read"] });
  const b = await kg.keys.create({ name: "b", permissions: ["tasks:read"] });
  const two = await get("/tasks/mine", { Authorization: `Bearer ${a.key}`, "X-API-Key": b.key });
  assert.equal(two.status, 400);
  assert.equal((await problemOf(two)).code, "ambiguous_credentials");

  await kg.keys.disable(a.id);
  const disabled = await get("/tasks/mine", { "X-API-Key": a.key });
  assert.equal(disabled.status, 401);
  assert.equal((await problemOf(disabled)).code, "disabled_key");
});

test("403 when the key lacks the route's permission", async () => {
  const key = await kg.keys.create({ name: "writer only", permissions: ["tasks:write"] });
  const res = await get("/tasks/mine", { Authorization: `Bearer ${key.key}` });
  assert.equal(res.status, 403);
  assert.equal((await problemOf(res)).code, "insufficient_permissions");
  assert.match(res.headers.get("X-RateLimit-Remaining"), /^\d+$/);
});

test("429 with Retry-After once the key's limit is spent", async () => {
  await inOneMinute();
  const key = await kg.keys.create({ name: "slow", permissions: ["tasks:read"], rate_limit: { per_minute: 2 } });
  const auth = { Authorization: `Bearer ${key.key}` };
  assert.equal((await get("/tasks/mine", auth)).status, 200);
  const last = await get("/tasks/mine", auth);
  assert.equal(last.status, 200);
  assert.equal(last.headers.get("X-RateLimit-Remaining"), "0");
  const refused = await get("/tasks/mine", auth);
  assert.equal(refused.status, 429);
  assert.equal((await problemOf(refused)).code, "rate_limited");
  assert.equal(refused.headers.get("X-RateLimit-Limit"), "2");
  assert.equal(refused.headers.get("X-RateLimit-Remaining"), "0");
  const retry = Number(refused.headers.get("Retry-After"));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
});

test("binding mode: the binding named in c.env (here one that verifies over HTTP)", async () => {
  const bound = new Hono();
  bound.use("*", keygate({ permissions: ["tasks:read"], binding: "KEYGATE" }));
  bound.get("/", (c) => c.text(c.get("keygate").code));
  bound.onError((e, c) => c.text(e.message, 500));
  const env = { KEYGATE: createVerifier({ baseUrl: server.baseUrl }) };
  const key = await kg.keys.create({ name: "bound", permissions: ["tasks:read"] });
  const ok = await bound.fetch(new Request("http://product.test/", { headers: { "X-API-Key": key.key } }), env);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "valid");
  const none = await bound.fetch(new Request("http://product.test/", { headers: { "X-API-Key": key.key } }), {});
  assert.equal(none.status, 500, "a missing binding is the product's misconfiguration, not a pass");
  assert.match(await none.text(), /no service binding "KEYGATE"/);
});
