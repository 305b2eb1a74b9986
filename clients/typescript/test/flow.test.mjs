// The README's flow through the TypeScript client against a running keygate: the operator makes a
// team, its admin key makes a key, the key verifies, is listed, narrowed, disabled (verify then
// says disabled_key) and deleted (invalid_key); problems surface as KeygateError with `code`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createKeygate, createVerifier, KeygateError } from "../dist/index.js";
import { newTeam, startKeygate } from "./keygate.mjs";

let server, kg, baseUrl;
before(async () => {
  server = await startKeygate();
  baseUrl = server.baseUrl;
  const { adminKey } = await newTeam(server, "ts-client flow");
  kg = createKeygate({ baseUrl, token: adminKey });
});
after(() => server?.stop());

const nextYear = () => new Date(Date.now() + 365 * 86400e3).toISOString().replace(/\.\d+Z$/, "Z");

test("the README flow: create, verify, list, patch, disable, delete", async () => {
  const key = await kg.keys.create({
    name: "Production App",
    permissions: ["tasks:read", "tasks:write"],
    expires_at: nextYear(),
  });
  assert.match(key.key, /^sk_live_/);
  assert.equal(key.name, "Production App");

  const v = await kg.verify({ key: key.key, permissions: ["tasks:read"] });
  assert.equal(v.valid, true);
  assert.equal(v.code, "valid");
  assert.equal(v.key_id, key.id);
  assert.deepEqual(v.permissions, ["tasks:read", "tasks:write"]);
  assert.equal(typeof v.rate_limit?.remaining, "number");

  const denied = await kg.verify({ key: key.key, permissions: ["billing:read"] });
  assert.deepEqual([denied.valid, denied.code], [false, "insufficient_permissions"]);

  const page = await kg.keys.list();
  const row = page.data.find((k) => k.id === key.id);
  assert.ok(row, "the new key is listed");
  assert.equal(row.prefix, key.key.slice(0, 12));
  assert.ok(!JSON.stringify(page).includes(key.key), "the listing never holds the key");

  const updated = await kg.keys.update(key.id, { name: "Production App v2", permissions: ["tasks:read"] });
  assert.equal(updated.name, "Production App v2");
  assert.deepEqual(updated.permissions, ["tasks:read"]);
  assert.equal((await kg.verify({ key: key.key, permissions: ["tasks:write"] })).code, "insufficient_permissions");

  const disabled = await kg.keys.disable(key.id);
  assert.equal(disabled.status, "disabled");
  const after = await kg.verify({ key: key.key, permissions: ["tasks:read"] });
  assert.deepEqual([after.valid, after.code], [false, "disabled_key"]);

  await kg.keys.delete(key.id);
  assert.equal((await kg.verify({ key: key.key })).code, "invalid_key");
  await assert.rejects(kg.keys.get(key.id), (e) => e instanceof KeygateError && e.status === 404 && e.code === "not_found");
});

test("problems are KeygateErrors with status, code, title and detail", async () => {
  const stranger = createKeygate({ baseUrl, token: "sk_live_not-a-key" });
  await assert.rejects(stranger.keys.list(), (e) => {
    assert.ok(e instanceof KeygateError);
    assert.equal(e.status, 401);
    assert.equal(e.code, "malformed_key");
    assert.equal(e.title, "Malformed API key");
    assert.equal(typeof e.detail, "string");
    assert.equal(e.headers.get("WWW-Authenticate"), "Bearer");
    return true;
  });
  // The operator's endpoints: an API key is not enough, a wrong token is no operator.
  await assert.rejects(kg.teams.create({ name: "nope" }), { name: "KeygateError", status: 403, code: "insufficient_permissions" });
  const impostor = createKeygate({ baseUrl, token: "not-the-operator-token" });
  await assert.rejects(impostor.teams.create({ name: "nope" }), { status: 401, code: "invalid_key" });
  // Input keygate refuses (a field the document does not know: refused, not ignored).
  await assert.rejects(kg.keys.create({ name: "x", colour: "red" }), { status: 400, code: "unknown_field" });
  await assert.rejects(kg.roles.create({ name: "ingest", permissions: ["Not a permission"] }), { status: 400, code: "invalid_field" });
  // Creating a second project with a name taken.
  await kg.projects.create({ name: "web" });
  await assert.rejects(kg.projects.create({ name: "web" }), { status: 409, code: "name_taken" });
});

test("every operation is reachable through the typed openapi-fetch client", async () => {
  const { data, error, response } = await kg.api.GET("/v1/audit-log", { params: { query: { limit: 5 } } });
  assert.equal(error, undefined);
  assert.equal(response.status, 200);
  assert.ok(Array.isArray(data.data));
  const current = await kg.keys.current();
  assert.deepEqual(current.permissions, ["admin:*"]);
  const windows = await kg.rateLimit();
  assert.deepEqual(windows.windows.map((w) => w.name), ["minute", "hour", "month"]);
  const roles = await kg.roles.list();
  assert.ok(Array.isArray(roles.data));
});

test("createVerifier gives one verify() over HTTP and over a binding", async () => {
  const key = await kg.keys.create({ name: "verifier", permissions: ["tasks:read"] });
  const http = createVerifier({ baseUrl });
  const overHttp = await http.verify({ key: key.key, permissions: ["tasks:read"] });
  assert.equal(overHttp.code, "valid");
  // A stand-in for env.KEYGATE (the Verifier entrypoint): it is handed the same input object.
  const seen = [];
  const binding = { verify: async (input) => (seen.push(input), http.verify(input)) };
  const overBinding = await createVerifier({ binding }).verify({ key: key.key, permissions: ["tasks:write"] });
  assert.deepEqual(seen, [{ key: key.key, permissions: ["tasks:write"] }]);
  assert.deepEqual([overBinding.valid, overBinding.code], [false, "insufficient_permissions"]);
});
