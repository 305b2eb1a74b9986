// The dashboard in a real browser: headless Chromium (the system's package) driven by
// playwright-core against the built worker in workerd (Miniflare: real KV, real Durable Objects,
// the static assets as wrangler serves them), fresh state per run. Each test is a flow of the
// product docs as a person clicks it, checked against the API as a client sees it.
//
//   node --test tests/browser/          (scripts/test.sh runs it after `sh scripts/build.sh`)
// Screenshots of the main pages go to target/screenshots/, or to $SCREENSHOTS (the README's come
// from `SCREENSHOTS=docs/screenshots node --test tests/browser/`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { createHmac } from "node:crypto";
import path from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { chromium } from "playwright-core";
import { keygateWorker, root } from "../support/keygate.mjs";

const OPERATOR = "browser-operator";
const PASSWORD = "correct horse battery staple";
const SHOTS = path.resolve(root, process.env.SCREENSHOTS || "target/screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

let mf, base, browser, team, adminKey;

async function call(method, p, { key, body, headers = {} } = {}) {
  const h = { ...headers };
  if (key) h.Authorization = `Bearer ${key}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  const r = await fetch(`${base}${p}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mf = new Miniflare(convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, cf: false, workers: [keygateWorker({ adminToken: OPERATOR, extraBindings: { ALLOW_INSECURE_WEBHOOKS: "true" } })] }));
  base = (await mf.ready).href.replace(/\/$/, "");
  const created = await call("POST", "/v1/teams", {
    key: OPERATOR,
    body: { name: "Acme", owner: { email: "owner@acme.test", password: PASSWORD } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  team = created.body.team.id;
  adminKey = created.body.api_key.key;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

after(async () => {
  await browser?.close();
  await mf?.dispose();
});

async function page(viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ viewport, permissions: ["clipboard-read", "clipboard-write"] });
  const p = await context.newPage();
  p.on("pageerror", (e) => assert.fail(`a script error in the page: ${e.message}`));
  return p;
}

async function signIn(p, email, password = PASSWORD) {
  await p.goto(`${base}/`);
  await p.getByLabel("Email").fill(email);
  await p.getByLabel("Password").fill(password);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL(/\/dashboard\//);
  await p.getByRole("heading", { name: "API keys" }).waitFor();
}

async function invite(email, role) {
  const r = await call("POST", "/v1/invitations", { key: adminKey, body: { email, role } });
  assert.equal(r.status, 201);
  return r.body.token;
}

test("sign in with a wrong password says so next to the form, then signs in and out", async () => {
  const p = await page();
  await p.goto(`${base}/`);
  await p.getByLabel("Email").fill("owner@acme.test");
  await p.getByLabel("Password").fill("not the password at all");
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("alert").filter({ hasText: "the email or the password is wrong" }).waitFor();
  await p.screenshot({ path: path.join(SHOTS, "sign-in.png") });
  await signIn(p, "owner@acme.test");
  const cookies = await p.context().cookies();
  const session = cookies.find((c) => c.name === "__Host-keygate_session");
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === "Strict");
  await p.getByRole("button", { name: "Sign out" }).click();
  await p.waitForURL(`${base}/`);
  // The old cookie is dead on the server, not only forgotten by the browser.
  const r = await call("GET", "/v1/me", { headers: { Cookie: `${session.name}=${session.value}` } });
  assert.equal(r.status, 401);
  assert.equal(r.body.code, "invalid_session");
  await p.context().close();
});

test("create a key, copy it from the show-once dialog, verify it, find it, disable it, delete it", async () => {
  const p = await page();
  await signIn(p, "owner@acme.test");
  await p.getByRole("button", { name: "Create API key" }).click();
  const dialog = p.getByRole("dialog", { name: "Create an API key" });
  // The API's error is shown next to the field it names, and the field is marked invalid.
  await dialog.getByRole("button", { name: "Create key" }).click();
  const nameError = dialog.locator(".field").filter({ has: p.getByLabel("Name") }).getByRole("alert");
  await nameError.filter({ hasText: "`name`" }).waitFor();
  assert.equal(await dialog.getByLabel("Name").getAttribute("aria-invalid"), "true");
  await dialog.getByLabel("Name").fill("Billing worker");
  await dialog.getByLabel("Permissions").fill("tasks:read, tasks:write");
  await dialog.getByLabel("Expires").selectOption("30");
  await p.screenshot({ path: path.join(SHOTS, "create-key.png") });
  await dialog.getByLabel("Metadata").fill("{not json");
  await dialog.getByRole("button", { name: "Create key" }).click();
  await dialog.getByRole("alert").filter({ hasText: "Metadata is not valid JSON" }).waitFor();
  await dialog.getByLabel("Metadata").fill('{"customer": "acme"}');
  assert.equal(await dialog.getByLabel("Name").getAttribute("aria-invalid"), null, "cleared on the next try");
  await dialog.getByRole("button", { name: "Create key" }).click();

  const secret = p.getByRole("dialog", { name: "Copy your new API key" });
  await secret.waitFor();
  const key = await secret.getByLabel("API key").inputValue();
  assert.match(key, /^sk_live_[0-9A-Za-z]{38}$/);
  await p.screenshot({ path: path.join(SHOTS, "key-shown-once.png") });
  // Closing before copying asks first.
  await secret.getByRole("button", { name: "Done" }).click();
  await secret.getByText("You won't see this key again").waitFor();
  await secret.getByRole("button", { name: "Keep it open" }).click();
  await secret.getByRole("button", { name: "Copy" }).click();
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), key);
  await secret.getByRole("button", { name: "Done" }).click();
  await secret.waitFor({ state: "hidden" });

  // The key works, and its expiry is about 30 days away.
  let v = await call("POST", "/v1/verify", { key: adminKey, body: { key, permissions: ["tasks:read"] } });
  assert.equal(v.body.code, "valid");
  const days = (Date.parse(v.body.expires_at) - Date.now()) / 86_400_000;
  assert.ok(days > 29 && days <= 30, `expires in ${days} days`);
  const listed = await call("GET", `/v1/api-keys/${v.body.key_id}`, { key: adminKey });
  assert.deepEqual(listed.body.metadata, { customer: "acme" });

  // The list shows it by its prefix, never the whole key.
  const row = p.getByRole("row").filter({ hasText: "Billing worker" });
  await row.getByText(key.slice(0, 12)).waitFor();
  assert.ok(!(await p.content()).includes(key));
  await p.screenshot({ path: path.join(SHOTS, "keys.png"), fullPage: true });

  // Details, then disable through the confirmation dialog: refused at once.
  await row.getByRole("link", { name: "Billing worker" }).click();
  await p.getByRole("heading", { name: "Billing worker" }).waitFor();
  await p.getByText("Requests today").waitFor();
  // The 30-day chart: the verification above is in today's bar.
  const chart = p.getByRole("img", { name: /Last 30 days: 1 admitted, 0 rate limited, 0 denied/ });
  await chart.waitFor();
  await p.screenshot({ path: path.join(SHOTS, "key-details.png"), fullPage: true });
  await p.getByRole("button", { name: "Disable" }).click();
  const confirm = p.getByRole("dialog", { name: "Disable “Billing worker”?" });
  await confirm.getByRole("button", { name: "Disable key" }).click();
  await confirm.waitFor({ state: "hidden" });
  v = await call("POST", "/v1/verify", { key: adminKey, body: { key } });
  assert.equal(v.body.code, "disabled_key");
  await p.getByText("disabled", { exact: true }).first().waitFor();

  // Delete through its dialog: gone from the list and from verification.
  await p.getByRole("button", { name: "Delete" }).click();
  await p.getByRole("dialog", { name: "Delete “Billing worker”?" }).getByRole("button", { name: "Delete key" }).click();
  await p.waitForURL(/\/dashboard\//);
  await p.getByRole("heading", { name: "API keys" }).waitFor();
  assert.equal(await p.getByRole("row").filter({ hasText: "Billing worker" }).count(), 0);
  v = await call("POST", "/v1/verify", { key: adminKey, body: { key } });
  assert.equal(v.body.code, "invalid_key");
  await p.context().close();
});

test("disable a key from its row in the list: find it, click Disable next to it, Confirm", async () => {
  const made = await call("POST", "/v1/api-keys", { key: adminKey, body: { name: "Row worker", permissions: ["tasks:read"] } });
  assert.equal(made.status, 201);
  const prefix = made.body.key.slice(0, 12);
  const p = await page();
  await signIn(p, "owner@acme.test");
  const row = p.getByRole("row").filter({ hasText: "Row worker" });
  await row.getByRole("button", { name: /^Roll Row worker \(sk_live_/ }).waitFor();
  await p.screenshot({ path: path.join(SHOTS, "keys-row-actions.png"), fullPage: true });
  // The button names its key; the confirmation is the key page's.
  await row.getByRole("button", { name: `Disable Row worker (${prefix}…)` }).click();
  const confirm = p.getByRole("dialog", { name: "Disable “Row worker”?" });
  await confirm.getByRole("button", { name: "Disable key" }).click();
  await confirm.waitFor({ state: "hidden" });
  await row.getByText("disabled", { exact: true }).waitFor();
  assert.equal(await row.getByRole("button", { name: /^Disable/ }).count(), 0, "no Disable for a disabled key");
  const v = await call("POST", "/v1/verify", { key: adminKey, body: { key: made.body.key } });
  assert.equal(v.body.code, "disabled_key");
  // Delete from the row, after its own confirmation: gone from the list.
  await row.getByRole("button", { name: /^Delete Row worker/ }).click();
  await p.getByRole("dialog", { name: "Delete “Row worker”?" }).getByRole("button", { name: "Delete key" }).click();
  await row.waitFor({ state: "detached" });
  assert.equal((await call("GET", `/v1/api-keys/${made.body.id}`, { key: adminKey })).status, 404);
  await p.context().close();
});

test("roll a key with an overlap: the new key is shown once, both work; auto-renew is a switch", async () => {
  const created = await call("POST", "/v1/api-keys", { key: adminKey, body: { name: "Rolling worker", permissions: ["tasks:read"] } });
  const oldKey = created.body.key;
  const p = await page();
  await signIn(p, "owner@acme.test");
  await p.goto(`${base}/dashboard/#/keys/${created.body.id}`);
  await p.getByRole("heading", { name: "Rolling worker" }).waitFor();
  // Auto-renew: off, then on through the edit form.
  await p.getByText("off", { exact: true }).waitFor();
  await p.getByLabel("Renew automatically when 30 days remain").check();
  await p.getByRole("button", { name: "Save changes" }).click();
  await p.getByText("on: renews when 30 days remain").waitFor();
  assert.equal((await call("GET", `/v1/api-keys/${created.body.id}`, { key: adminKey })).body.auto_renew, true);

  await p.getByRole("button", { name: "Roll" }).click();
  const dialog = p.getByRole("dialog", { name: "Roll “Rolling worker”" });
  await dialog.getByLabel("Keep the old key working for").selectOption("3600");
  await p.screenshot({ path: path.join(SHOTS, "roll-key.png") });
  await dialog.getByRole("button", { name: "Roll key" }).click();
  const secret = p.getByRole("dialog", { name: "Copy your new API key" });
  await secret.waitFor();
  const newKey = await secret.getByLabel("API key").inputValue();
  assert.notEqual(newKey, oldKey);
  await secret.getByRole("button", { name: "Copy" }).click();
  await secret.getByRole("button", { name: "Done" }).click();
  // The new key's page, which says where it came from; both keys work during the hour.
  await p.getByRole("link", { name: created.body.id }).waitFor();
  for (const k of [oldKey, newKey]) {
    const v = await call("POST", "/v1/verify", { body: { key: k } });
    assert.equal(v.body.code, "valid");
  }
  const old = await call("GET", `/v1/api-keys/${created.body.id}`, { key: adminKey });
  const left = (Date.parse(old.body.expires_at) - Date.now()) / 1000;
  assert.ok(left > 3500 && left <= 3600, `${left} s left`);
  await p.context().close();
});

test("add a webhook endpoint, copy its secret once, send a test event a real receiver checks", async () => {
  const received = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  try {
    const p = await page();
    await signIn(p, "owner@acme.test");
    await p.getByRole("link", { name: "Webhooks" }).click();
    await p.getByRole("heading", { name: "Webhooks" }).waitFor();
    // A bad URL is refused next to the field.
    await p.getByLabel("URL").fill("ftp://example.com/hook");
    await p.getByRole("button", { name: "Add endpoint" }).click();
    await p.locator(".field").filter({ has: p.getByLabel("URL") }).getByRole("alert").filter({ hasText: "`url`" }).waitFor();
    await p.getByLabel("URL").fill(url);
    await p.getByLabel("All events").uncheck();
    await p.getByLabel("api_key.expiring").check();
    await p.getByLabel("api_key.disabled").check();
    await p.screenshot({ path: path.join(SHOTS, "webhooks.png"), fullPage: true });
    await p.getByRole("button", { name: "Add endpoint" }).click();
    const secretDialog = p.getByRole("dialog", { name: "Copy the signing secret" });
    await secretDialog.waitFor();
    const secret = await secretDialog.getByLabel("Signing secret").inputValue();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    await secretDialog.getByRole("button", { name: "Copy" }).click();
    await secretDialog.getByRole("button", { name: "Done" }).click();
    const row = p.getByRole("row").filter({ hasText: url });
    await row.getByText("api_key.disabled, api_key.expiring").waitFor();
    assert.ok(!(await p.content()).includes(secret), "never shown again");

    await row.getByRole("link", { name: url }).click();
    await p.getByRole("heading", { name: "Webhook endpoint" }).waitFor();
    await p.getByRole("button", { name: "Send test event" }).click();
    // The receiver gets it, signed with the secret the page showed once.
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(received.length, 1);
    const { headers, body } = received[0];
    assert.equal(JSON.parse(body).type, "webhook.test");
    const key = Buffer.from(secret.slice(6), "base64");
    const expected = `v1,${createHmac("sha256", key).update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`).digest("base64")}`;
    assert.ok(headers["webhook-signature"].split(" ").includes(expected));
    // The delivery log shows it.
    await p.getByRole("row").filter({ hasText: "webhook.test" }).getByText("200").waitFor();
    await p.screenshot({ path: path.join(SHOTS, "webhook-deliveries.png"), fullPage: true });
    // Disable and enable again.
    await p.getByRole("button", { name: "Disable", exact: true }).click();
    await p.getByText("disabled", { exact: true }).waitFor();
    await p.getByRole("button", { name: "Enable", exact: true }).click();
    await p.getByText("enabled", { exact: true }).waitFor();
    await p.context().close();
  } finally {
    receiver.close();
  }
});

test("the audit log says who did what, filtered; monitoring shows the last day", async () => {
  const k = await call("POST", "/v1/api-keys", { key: adminKey, body: { name: "Audited worker" } });
  await call("POST", `/v1/api-keys/${k.body.id}/disable`, { key: adminKey });
  const p = await page();
  await signIn(p, "owner@acme.test");
  await p.getByRole("link", { name: "Audit log" }).click();
  await p.getByRole("heading", { name: "Audit log" }).waitFor();
  await p.getByLabel("Target ID").fill(k.body.id);
  await p.getByRole("button", { name: "Filter" }).click();
  await p.waitForURL(/#\/audit\?target_id=/);
  // Both changes of that key, newest first (entries arrive within a second or two; the page
  // shows the filtered log once its request has answered).
  for (let i = 0; i < 30 && (await p.getByRole("row").count()) !== 3; i++) {
    await new Promise((r) => setTimeout(r, 300));
    await p.reload();
    await p.getByRole("heading", { name: "Audit log" }).waitFor();
  }
  const rows = p.getByRole("row");
  assert.equal(await rows.count(), 3, "a header and two entries");
  await rows.nth(1).getByText("api_key.disabled").waitFor();
  await rows.nth(2).getByText("api_key.created").waitFor();
  await p.screenshot({ path: path.join(SHOTS, "audit-log.png"), fullPage: true });
  await p.getByRole("link", { name: "Monitoring" }).click();
  await p.getByRole("heading", { name: "Monitoring" }).waitFor();
  await p.getByText("Keys expiring within 30 days").waitFor();
  await p.context().close();
});

test("a service account's key shows the roles it inherits; a project scopes a key", async () => {
  const role = await call("POST", "/v1/roles", { key: adminKey, body: { name: "reader", permissions: ["tasks:read", "events:read"] } });
  assert.equal(role.status, 201);
  const sa = await call("POST", "/v1/service-accounts", { key: adminKey, body: { name: "etl", roles: ["reader"] } });
  assert.equal(sa.status, 201);
  const proj = await call("POST", "/v1/projects", { key: adminKey, body: { name: "mobile" } });
  const p = await page();
  await signIn(p, "owner@acme.test");
  await p.getByRole("button", { name: "Create API key" }).click();
  const dialog = p.getByRole("dialog", { name: "Create an API key" });
  await dialog.getByLabel("Name").fill("ETL key");
  await dialog.getByLabel("Service account").selectOption({ label: "etl (roles: reader)" });
  assert.ok(await dialog.getByLabel("Permissions").isDisabled());
  await dialog.getByLabel("Project").selectOption({ label: "mobile" });
  await dialog.getByRole("button", { name: "Create key" }).click();
  const secret = p.getByRole("dialog", { name: "Copy your new API key" });
  const key = await secret.getByLabel("API key").inputValue();
  await secret.getByRole("button", { name: "Done" }).click();
  await secret.getByRole("button", { name: "Yes, close" }).click();
  await p.getByRole("row").filter({ hasText: "ETL key" }).getByRole("link").click();
  await p.getByText("reader", { exact: true }).waitFor();
  // Its project and account by name, not by id.
  await p.getByText("mobile", { exact: true }).waitFor();
  await p.getByText("etl", { exact: true }).waitFor();
  const v = await call("POST", "/v1/verify", { key: adminKey, body: { key, permissions: ["events:read"], project_id: proj.body.id } });
  assert.equal(v.body.code, "valid");
  assert.deepEqual(v.body.permissions, ["tasks:read", "events:read"]);
  assert.equal(v.body.project_id, proj.body.id);
  await p.context().close();
});

test("a key reported leaked says so on its page: where, when, and that it is disabled", async () => {
  const made = await call("POST", "/v1/api-keys", { key: adminKey, body: { name: "Pushed by mistake" } });
  assert.equal(made.status, 201);
  const url = "https://github.com/acme/app/blob/abc/.env";
  const reported = await call("POST", "/v1/leaks", { key: adminKey, body: [{ token: made.body.key, type: "t", url, source: "content" }] });
  assert.equal(reported.status, 200);
  assert.equal(reported.body[0].label, "true_positive");
  const p = await page();
  await signIn(p, "owner@acme.test");
  await p.goto(`${base}/dashboard/#/keys/${made.body.id}`);
  const alert = p.locator("#key-leaked");
  await alert.waitFor();
  assert.match(await alert.innerText(), /reported leaked .* by your team and is disabled/);
  assert.equal(await p.getByRole("link", { name: url }).getAttribute("href"), url);
  await p.context().close();
});

test("a viewer sees no write actions, and the API refuses them anyway", async () => {
  const token = await invite("viewer@acme.test", "viewer");
  const p = await page();
  await p.goto(`${base}/accept.html#token=${encodeURIComponent(token)}`);
  assert.equal(new URL(p.url()).hash, "", "the token leaves the address bar");
  await p.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await p.getByLabel("Password, again").fill(PASSWORD);
  await p.getByRole("button", { name: "Accept and sign in" }).click();
  await p.waitForURL(/\/dashboard\//);
  await p.getByRole("heading", { name: "API keys" }).waitFor();
  assert.equal(await p.getByRole("button", { name: "Create API key" }).count(), 0);
  await p.getByRole("link", { name: "Projects" }).click();
  await p.getByRole("heading", { name: "Projects" }).waitFor();
  assert.equal(await p.getByRole("button", { name: "Create project" }).count(), 0);
  // The API, with the viewer's own session from this page: 403.
  const status = await p.evaluate(async () => {
    const r = await fetch("/v1/api-keys", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "sneaky" }) });
    return [r.status, (await r.json()).code];
  });
  assert.deepEqual(status, [403, "insufficient_permissions"]);
  await p.context().close();
});

test("an invitation accepted in a second browser; the owner sees the new member", async () => {
  const owner = await page();
  await signIn(owner, "owner@acme.test");
  await owner.getByRole("link", { name: "Members" }).click();
  await owner.getByLabel("Email").fill("dev@acme.test");
  await owner.getByLabel("Role", { exact: true }).selectOption("developer");
  await owner.getByRole("button", { name: "Send invitation" }).click();
  const link = await owner.getByLabel("Invitation link").inputValue();
  assert.match(link, /\/accept\.html#token=kgi_/);
  await owner.screenshot({ path: path.join(SHOTS, "members.png"), fullPage: true });

  const invitee = await page({ width: 390, height: 844 }); // a phone
  await invitee.goto(link);
  await invitee.getByLabel("Password", { exact: true }).fill("short");
  await invitee.getByLabel("Password, again").fill("short");
  await invitee.getByRole("button", { name: "Accept and sign in" }).click();
  await invitee.getByRole("alert").filter({ hasText: "at least 12 characters" }).waitFor();
  await invitee.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await invitee.getByLabel("Password, again").fill(PASSWORD);
  await invitee.getByRole("button", { name: "Accept and sign in" }).click();
  await invitee.waitForURL(/\/dashboard\//);
  await invitee.getByRole("button", { name: "Create API key" }).waitFor(); // developers make keys
  const width = await invitee.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling at 390 px (page is ${width} px wide)`);
  await invitee.screenshot({ path: path.join(SHOTS, "keys-phone.png"), fullPage: true });
  // The same link again: used up.
  const again = await page();
  await again.goto(link);
  await again.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await again.getByLabel("Password, again").fill(PASSWORD);
  await again.getByRole("button", { name: "Accept and sign in" }).click();
  await again.getByRole("alert").filter({ hasText: "unknown, already used or withdrawn" }).waitFor();

  await owner.reload();
  await owner.getByRole("cell", { name: "dev@acme.test", exact: true }).waitFor();
  for (const p of [owner, invitee, again]) await p.context().close();
});

test("a cross-site POST carrying the session cookie is refused", async () => {
  const p = await page();
  await signIn(p, "owner@acme.test");
  const session = (await p.context().cookies()).find((c) => c.name === "__Host-keygate_session");
  // What a browser sends for a form posted from another site (were the cookie sent at all:
  // SameSite=Strict already keeps it home).
  const r = await call("POST", "/v1/api-keys", {
    headers: { Cookie: `${session.name}=${session.value}`, Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
    body: { name: "planted" },
  });
  assert.equal(r.status, 403);
  assert.equal(r.body.code, "csrf_rejected");
  const list = await call("GET", "/v1/api-keys", { key: adminKey });
  assert.ok(!list.body.data.some((k) => k.name === "planted"));
  await p.context().close();
});

test("usage policy: create a key with a quota, credits with refill and two IPs; a bad IP line is named; edit credits", async () => {
  const p = await page();
  await signIn(p, "owner@acme.test");
  await p.getByRole("button", { name: "Create API key" }).click();
  const dialog = p.getByRole("dialog", { name: "Create an API key" });
  await dialog.getByLabel("Name", { exact: true }).fill("Metered worker");
  await dialog.getByLabel("Monthly quota").fill("5000");
  await dialog.getByLabel("Credits remaining").fill("200");
  await dialog.getByLabel("Refill to").fill("300");
  // An amount with no period is named next to its field before anything is sent.
  await dialog.getByRole("button", { name: "Create key" }).click();
  await dialog.locator(".field").filter({ has: p.getByLabel("Refill to") }).getByRole("alert").filter({ hasText: "`refill_amount`" }).waitFor();
  await dialog.getByLabel("Refill", { exact: true }).selectOption("monthly");
  const ips = dialog.getByLabel("Allowed IPs");
  const ipError = dialog.locator(".field").filter({ has: p.getByLabel("Allowed IPs") }).getByRole("alert");
  // Plainly not an address: refused before sending, next to the field, naming the line.
  await ips.fill("203.0.113.0/24\nnot-an-ip");
  await dialog.getByRole("button", { name: "Create key" }).click();
  await ipError.filter({ hasText: "Line 2 (not-an-ip)" }).waitFor();
  assert.equal(await ips.getAttribute("aria-invalid"), "true");
  // Well formed but refused by the API (a host address with a /8): its line, from the API's
  // `allowed_ips[1]` (the empty line between does not count as an entry).
  await ips.fill("203.0.113.0/24\n\n10.0.0.1/8");
  await dialog.getByRole("button", { name: "Create key" }).click();
  await ipError.filter({ hasText: "Line 3 (10.0.0.1/8)" }).waitFor();
  await ips.fill("203.0.113.0/24\n2001:DB8::/32");
  await dialog.getByRole("button", { name: "Create key" }).click();
  const secret = p.getByRole("dialog", { name: "Copy your new API key" });
  await secret.waitFor();
  await secret.getByRole("button", { name: "Copy" }).click();
  await secret.getByRole("button", { name: "Done" }).click();
  const row = p.getByRole("row").filter({ hasText: "Metered worker" });
  await row.getByRole("link", { name: "Metered worker" }).click();
  await p.getByRole("heading", { name: "Metered worker" }).waitFor();
  await p.locator("#key-quota").filter({ hasText: "0 of 5,000 used this month (UTC)" }).waitFor();
  await p.locator("#key-credits").filter({ hasText: "200 remaining, refilled to 300 each month" }).waitFor();
  await p.locator("#key-idle").filter({ hasText: "0 days" }).waitFor();
  await p.locator("#key-allowed-ips").getByText("2001:db8::/32").waitFor();
  await p.locator("#key-allowed-ips").getByText("203.0.113.0/24").waitFor();
  const id = p.url().split("/").pop();
  const made = (await call("GET", `/v1/api-keys/${id}`, { key: adminKey })).body;
  assert.equal(made.rate_limit.per_month, 5000);
  assert.deepEqual(made.credits, { remaining: 200, refill: { amount: 300, interval: "monthly" } });
  assert.deepEqual(made.allowed_ips, ["203.0.113.0/24", "2001:db8::/32"]);
  await p.screenshot({ path: path.join(SHOTS, "key-usage-policy.png"), fullPage: true });

  // Edit: the API's refusal of a field of the policy is shown next to it.
  const edit = p.getByRole("form", { name: "Edit" });
  await edit.getByLabel("Credits remaining").fill("2000000000");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await edit.locator(".field").filter({ has: p.getByLabel("Credits remaining") }).getByRole("alert")
    .filter({ hasText: "`credits.remaining`" }).waitFor();
  // New credits refilled daily; the rest of the policy stays as it was.
  await edit.getByLabel("Credits remaining").fill("50");
  await edit.getByLabel("Refill to").fill("60");
  await edit.getByLabel("Refill", { exact: true }).selectOption("daily");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await p.locator("#key-credits").filter({ hasText: "50 remaining, refilled to 60 each day" }).waitFor();
  let after = (await call("GET", `/v1/api-keys/${id}`, { key: adminKey })).body;
  assert.deepEqual(after.credits, { remaining: 50, refill: { amount: 60, interval: "daily" } });
  assert.deepEqual(after.allowed_ips, made.allowed_ips);
  assert.equal(after.rate_limit.per_month, 5000);
  // Emptying "Credits remaining" removes them.
  await edit.getByLabel("Credits remaining").fill("");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await p.locator("#key-credits").filter({ hasText: "none (no limit)" }).waitFor();
  after = (await call("GET", `/v1/api-keys/${id}`, { key: adminKey })).body;
  assert.equal(after.credits, undefined);
  await p.context().close();
});

test("the key list filters idle keys and shows each key's idle days", async () => {
  const p = await page();
  await signIn(p, "owner@acme.test");
  await p.getByRole("columnheader", { name: "Idle days" }).waitFor();
  assert.ok((await p.getByRole("row").count()) > 1);
  // Every key here is new: none idle 30 days.
  await p.getByLabel("Idle", { exact: true }).selectOption("30");
  await p.waitForURL(/#\/keys\?idle_days=30$/);
  await p.getByText("No keys idle 30 days or more.").waitFor();
  assert.equal((await call("GET", "/v1/api-keys?idle_days=30", { key: adminKey })).body.data.length, 0);
  await p.getByLabel("Idle", { exact: true }).selectOption("");
  await p.getByRole("columnheader", { name: "Idle days" }).waitFor();
  await p.context().close();
});

test("the dashboard works with the keyboard alone", async () => {
  const p = await page();
  await p.goto(`${base}/`);
  await p.getByLabel("Email").focus();
  await p.keyboard.type("owner@acme.test");
  await p.keyboard.press("Tab");
  await p.keyboard.type(PASSWORD);
  await p.keyboard.press("Enter");
  await p.waitForURL(/\/dashboard\//);
  await p.getByRole("button", { name: "Create API key" }).focus();
  await p.keyboard.press("Enter");
  const dialog = p.getByRole("dialog", { name: "Create an API key" });
  await dialog.waitFor();
  assert.equal(await p.evaluate(() => document.activeElement?.getAttribute("name")), "name");
  await p.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  await p.context().close();
});

test("an email and password that open two teams: the sign-in page offers the choice", async () => {
  const beta = await call("POST", "/v1/teams", { key: OPERATOR, body: { name: "Beta", owner: { email: "dual@acme.test", password: PASSWORD } } });
  assert.equal(beta.status, 201);
  const accepted = await call("POST", "/v1/invitations/accept", { body: { token: await invite("dual@acme.test", "viewer"), password: PASSWORD } });
  assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  const p = await page();
  await p.goto(`${base}/`);
  await p.getByLabel("Email").fill("dual@acme.test");
  await p.getByLabel("Password").fill(PASSWORD);
  await p.getByRole("button", { name: "Sign in" }).click();
  const choice = p.getByRole("group", { name: "Choose a team" });
  await choice.getByLabel("Acme").waitFor();
  await choice.getByLabel("Beta").check();
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL(/\/dashboard\//);
  await p.locator("#team-name").filter({ hasText: "Beta" }).waitFor();
  await p.context().close();
});

test("a portal link: the product's user lands signed in, sees \"Back to …\" and the team's branding", async () => {
  const branding = { name: "Acme Shop", logo_url: "https://shop.example/logo.png", accent_color: "#ffd34d" };
  const patched = await call("PATCH", `/v1/teams/${team}`, { key: OPERATOR, body: { branding } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  try {
    const opened = await call("POST", "/v1/portal/sessions", {
      key: adminKey,
      body: { user: { external_id: "shop-user-42", email: "pat@shop.test", name: "Pat" }, role: "developer", return_url: "https://shop.example/account" },
    });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const p = await page();
    await p.goto(opened.body.url);
    await p.waitForURL(/\/dashboard\//);
    assert.ok(!p.url().includes("kgp_"), "the token leaves the address bar");
    const back = p.getByRole("link", { name: "← Back to Acme Shop" });
    await back.waitFor();
    assert.equal(await back.getAttribute("href"), "https://shop.example/account");
    // The branding: its name and logo in the header, its accent on the buttons, with text that reads on it.
    await p.locator("header .brand").filter({ hasText: "Acme Shop" }).waitFor();
    assert.equal(await p.locator("header .brand img").getAttribute("src"), branding.logo_url);
    const create = p.getByRole("button", { name: "Create API key" }); // a developer makes keys
    const colors = await create.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]);
    assert.deepEqual(colors, ["rgb(255, 211, 77)", "rgb(27, 31, 36)"]);
    await p.getByText("pat@shop.test · developer").waitFor();
    await p.context().close();
  } finally {
    await call("PATCH", `/v1/teams/${team}`, { key: OPERATOR, body: { branding: {} } });
  }
});

test("the Security page lists where the member is signed in and signs a session out", async () => {
  const accepted = await call("POST", "/v1/invitations/accept", { body: { token: await invite("sec@acme.test", "developer"), password: PASSWORD } });
  assert.equal(accepted.status, 201);
  const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";
  const other = await (await browser.newContext({ userAgent: firefox })).newPage();
  await signIn(other, "sec@acme.test");
  const p = await page();
  await signIn(p, "sec@acme.test");
  await p.getByRole("link", { name: "Security" }).click();
  await p.getByRole("heading", { name: "Where you are signed in" }).waitFor();
  await p.getByRole("row").filter({ hasText: "(this browser)" }).waitFor();
  // Sign the Firefox session out: its next request is refused, and it is back at the sign-in page.
  await p.getByRole("row").filter({ hasText: "Firefox on Linux" }).getByRole("button", { name: /^Sign out Firefox on Linux/ }).click();
  await p.getByRole("row").filter({ hasText: "Firefox on Linux" }).waitFor({ state: "detached" });
  await other.reload();
  await other.waitForURL(`${base}/`);
  await other.context().close();
  // Signing out this browser's own session from the list ends it too.
  await p.getByRole("row").filter({ hasText: "(this browser)" }).getByRole("button", { name: /^Sign out/ }).click();
  await p.waitForURL(`${base}/`);
  const status = await p.evaluate(async () => (await fetch("/v1/me")).status);
  assert.equal(status, 401);
  await p.context().close();
});

/** An RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret at `ms`. */
function totp(secret, ms) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 30_000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const o = mac[19] & 0xf;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

test("two-factor sign-in: enrol from the Security page with the QR code's secret, then sign in with a code", async () => {
  const accepted = await call("POST", "/v1/invitations/accept", { body: { token: await invite("two@acme.test", "developer"), password: PASSWORD } });
  assert.equal(accepted.status, 201);
  const p = await page();
  await signIn(p, "two@acme.test");
  await p.getByRole("link", { name: "Security" }).click();
  await p.getByRole("button", { name: "Set up two-factor sign-in" }).click();
  await p.getByRole("img", { name: "QR code of your two-factor secret" }).waitFor();
  const secret = (await p.getByLabel("Two-factor secret", { exact: true }).innerText()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await p.screenshot({ path: path.join(SHOTS, "security.png"), fullPage: true });
  await p.getByLabel("Code from your app").fill("000000" === totp(secret, Date.now()) ? "111111" : "000000");
  await p.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
  await p.locator(".field").filter({ has: p.getByLabel("Code from your app") }).getByRole("alert").waitFor();
  await p.getByLabel("Code from your app").fill(totp(secret, Date.now()));
  await p.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
  // The recovery codes, this once.
  const codes = p.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
  await codes.first().waitFor();
  assert.equal(await codes.count(), 10);
  await p.getByRole("button", { name: "I have saved them" }).click();
  await p.getByText("Two-factor sign-in is on").waitFor();
  await p.getByRole("button", { name: "Sign out", exact: true }).click();
  await p.waitForURL(`${base}/`);

  // Email and password, then the page asks for a code; a wrong one is refused in words.
  await p.getByLabel("Email").fill("two@acme.test");
  await p.getByLabel("Password").fill(PASSWORD);
  await p.getByRole("button", { name: "Sign in" }).click();
  const code = p.getByLabel("Code from your authenticator app");
  await code.waitFor();
  await code.fill("12345");
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("alert").filter({ hasText: "code" }).waitFor();
  // The next step's code (the current one confirmed the enrolment, and each works once).
  await code.fill(totp(secret, Date.now() + 30_000));
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL(/\/dashboard\//);
  await p.getByRole("heading", { name: "API keys" }).waitFor();
  await p.context().close();
});
