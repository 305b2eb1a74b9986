// The dashboard: one page, sections by the URL's fragment (#/keys, #/keys/<id>, #/projects,
// #/roles, #/service-accounts, #/members, #/webhooks, #/audit, #/monitoring). Everything it shows
// comes from the API with the session cookie; what a member may do is what `GET /v1/me` says
// their role holds, and the API refuses the rest anyway. No framework and no CDN: plain DOM, built with `h()`.
import { api, all } from "/api.js";

const view = document.getElementById("view");
let me = null;

// ---------------------------------------------------------------------------------------------
// Small helpers.

/** An element: `h("button", {type: "button", onclick}, "Save")`. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Does the signed-in member hold `wanted` (the API's matcher, for hiding what they cannot do)? */
function can(wanted) {
  const [res] = wanted.split(":");
  const own = ["api_keys", "projects", "roles", "service_accounts", "webhooks", "members", "audit_log"];
  return me.permissions.some(
    (p) =>
      p === "admin:*" ||
      p === wanted ||
      p === `${res}:*` ||
      (p === "*:*" && !own.includes(res) && res !== "admin"),
  );
}

const when = (t) => (t ? new Date(t).toLocaleString() : "—");
const day = (t) => (t ? new Date(t).toLocaleDateString() : "—");

function toast(message) {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

/** A form's error line, next to the form's submit button. */
function errorLine(id) {
  return h("p", { class: "error", id, role: "alert", hidden: true });
}

function showError(el, e) {
  el.textContent = e.message;
  el.hidden = false;
}

/**
 * An API error in a form: next to the field it names when it names one of the form's fields
 * (the API's `detail` starts with it: "`name` must not be empty"), marked `aria-invalid` and
 * focused; otherwise on the form's own error line.
 */
function showFormError(form, fallback, e) {
  clearFormErrors(form);
  const named = /^`([a-z_]+)/.exec(e.message || "")?.[1];
  const input = named ? form.elements.namedItem(named) : null;
  if (!(input instanceof HTMLElement) || !input.id) return showError(fallback, e);
  const message = h("p", { class: "error field-error", id: `${input.id}-error`, role: "alert" }, e.message);
  input.setAttribute("aria-invalid", "true");
  input.dataset.describedBy = input.getAttribute("aria-describedby") || "";
  input.setAttribute("aria-describedby", `${input.dataset.describedBy} ${message.id}`.trim());
  (input.closest(".field") || input.parentElement).append(message);
  input.focus();
}

function clearFormErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) p.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    if (input.dataset.describedBy) input.setAttribute("aria-describedby", input.dataset.describedBy);
    else input.removeAttribute("aria-describedby");
  }
}

/** A labelled field: `field("Name", h("input", {...}))`. */
function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hintEl);
}

function table(caption, columns, rows, empty) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      rows.map((cells) => h("tr", {}, cells.map((c, i) => h("td", { "data-label": columns[i] }, c)))),
    ),
  );
}

/** Asks before a destructive action; runs `action` on confirmation and shows its error in place. */
function confirmAction({ title, text, ok, action }) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  const okButton = document.getElementById("confirm-ok");
  okButton.textContent = ok;
  const error = document.getElementById("confirm-error");
  error.hidden = true;
  const cancel = document.getElementById("confirm-cancel");
  const close = () => dialog.close();
  cancel.onclick = close;
  okButton.onclick = async () => {
    okButton.disabled = true;
    try {
      await action();
      dialog.close();
    } catch (e) {
      showError(error, e);
    } finally {
      okButton.disabled = false;
    }
  };
  dialog.showModal();
  cancel.focus();
}

/**
 * A new secret (an API key, a webhook's signing secret), shown once, with a copy button and a
 * question before it closes.
 */
function showSecret(key, { title = "Copy your new API key", label = "API key", what = "key" } = {}) {
  const dialog = document.getElementById("secret-dialog");
  document.getElementById("secret-title").textContent = title;
  document.querySelector('label[for="secret-value"]').textContent = label;
  document.getElementById("secret-warning").textContent =
    `This is the only time keygate shows this ${what}. Store it somewhere safe, such as your secrets manager.`;
  document.getElementById("secret-question").textContent = `You won't see this ${what} again. Have you copied it?`;
  const value = document.getElementById("secret-value");
  const confirmBox = document.getElementById("secret-confirm");
  const copied = document.getElementById("secret-copied");
  value.value = key;
  confirmBox.hidden = true;
  copied.hidden = true;
  let wasCopied = false;
  const guard = (e) => {
    e.preventDefault();
    e.returnValue = "";
  };
  window.addEventListener("beforeunload", guard);
  const finish = () => {
    value.value = "";
    window.removeEventListener("beforeunload", guard);
    dialog.close();
  };
  const ask = () => {
    confirmBox.hidden = false;
    document.getElementById("secret-keep").focus();
  };
  document.getElementById("secret-copy").onclick = async () => {
    try {
      await navigator.clipboard.writeText(key);
      copied.textContent = "Copied to the clipboard.";
    } catch {
      value.select();
      copied.textContent = "Selected: press Ctrl+C (or ⌘C) to copy.";
    }
    wasCopied = true;
    copied.hidden = false;
  };
  document.getElementById("secret-done").onclick = () => (wasCopied ? finish() : ask());
  document.getElementById("secret-close-anyway").onclick = finish;
  document.getElementById("secret-keep").onclick = () => {
    confirmBox.hidden = true;
    value.focus();
  };
  // Escape asks too, instead of closing.
  dialog.oncancel = (e) => {
    e.preventDefault();
    ask();
  };
  dialog.showModal();
  value.focus();
  value.select();
}

// ---------------------------------------------------------------------------------------------
// API keys.

async function keysPage(params) {
  const [projects, accounts] = await Promise.all([
    can("projects:read") ? all("/v1/projects") : [],
    can("service_accounts:read") ? all("/v1/service-accounts") : [],
  ]);
  const projectName = (id) => projects.find((p) => p.id === id)?.name || id || "—";
  const environment = params.get("environment") || "";
  const project = params.get("project_id") || "";
  const query = new URLSearchParams();
  if (environment) query.set("environment", environment);
  if (project) query.set("project_id", project);
  const keys = await all(`/v1/api-keys${query.size ? `?${query}` : ""}`);

  const filters = h(
    "form",
    { class: "filters", "aria-label": "Filter keys", onchange: (e) => {
      const f = new URLSearchParams();
      const form = e.currentTarget;
      if (form.environment.value) f.set("environment", form.environment.value);
      if (form.project_id.value) f.set("project_id", form.project_id.value);
      location.hash = `#/keys${f.size ? `?${f}` : ""}`;
    } },
    field("Environment", h("select", { name: "environment" },
      h("option", { value: "" }, "All"),
      ["live", "test"].map((e) => h("option", { value: e, selected: e === environment }, e)))),
    field("Project", h("select", { name: "project_id" },
      h("option", { value: "" }, "All"),
      projects.map((p) => h("option", { value: p.id, selected: p.id === project }, p.name)))),
  );

  const rows = keys.map((k) => [
    h("a", { href: `#/keys/${k.id}` }, k.name),
    h("code", {}, `${k.prefix}…`),
    k.environment,
    projectName(k.project_id),
    h("span", { class: `status ${k.status}` }, k.status),
    day(k.created_at),
    when(k.last_used),
    k.expires_at ? day(k.expires_at) : "never",
  ]);
  return [
    h("div", { class: "title-row" },
      h("h1", {}, "API keys"),
      can("api_keys:write")
        ? h("button", { type: "button", class: "primary", onclick: () => createKeyDialog(projects, accounts) }, "Create API key")
        : null),
    filters,
    table("API keys", ["Name", "Key", "Environment", "Project", "Status", "Created", "Last used", "Expires"], rows,
      "No API keys yet."),
  ];
}

function createKeyDialog(projects, accounts) {
  const error = errorLine("create-key-error");
  const expiry = h("select", { name: "expiry" },
    h("option", { value: "never" }, "Never"),
    h("option", { value: "7" }, "In 7 days"),
    h("option", { value: "30" }, "In 30 days"),
    h("option", { value: "90" }, "In 90 days"),
    h("option", { value: "365" }, "In a year"),
    h("option", { value: "custom" }, "On a date…"));
  const customDate = h("input", { type: "date", name: "expires_on", hidden: true, "aria-label": "Expiry date" });
  expiry.addEventListener("change", () => (customDate.hidden = expiry.value !== "custom"));
  const account = h("select", { name: "service_account_id" },
    h("option", { value: "" }, "None (a key of its own)"),
    accounts.map((a) => h("option", { value: a.id }, `${a.name} (roles: ${a.roles.join(", ") || "none"})`)));
  const permissions = h("input", { name: "permissions", placeholder: "tasks:read, events:*", spellcheck: "false" });
  account.addEventListener("change", () => {
    permissions.disabled = Boolean(account.value);
    permissions.placeholder = account.value ? "From the service account's roles" : "tasks:read, events:*";
  });
  const plan = h("select", { name: "plan" },
    ["free", "pro", "enterprise"].map((p) => h("option", { value: p }, p)));
  const perMinute = h("input", { name: "per_minute", type: "number", min: "1", inputmode: "numeric" });
  const perHour = h("input", { name: "per_hour", type: "number", min: "1", inputmode: "numeric" });

  const form = h("form", { method: "dialog", novalidate: true },
    h("h2", { id: "create-key-title" }, "Create an API key"),
    field("Name", h("input", { name: "name", required: true, maxlength: "100", autocomplete: "off" })),
    field("Description", h("input", { name: "description", maxlength: "500", autocomplete: "off" }), "Optional: what uses this key."),
    field("Environment", h("select", { name: "environment" },
      h("option", { value: "live" }, "live"), h("option", { value: "test" }, "test"))),
    field("Service account", account, "A service account's key takes the permissions of its roles."),
    field("Permissions", permissions, "Separated by commas or spaces: resource:action, resource:* or admin:*."),
    field("Project", h("select", { name: "project_id" },
      h("option", { value: "" }, "No project (team-wide)"),
      projects.map((p) => h("option", { value: p.id }, p.name)))),
    h("fieldset", {}, h("legend", {}, "Rate limit"),
      field("Plan", plan),
      field("Requests per minute", perMinute, "Optional: overrides the plan's (needed for enterprise)."),
      field("Requests per hour", perHour)),
    field("Expires", expiry), customDate,
    h("div", { class: "field check" },
      h("input", { type: "checkbox", name: "auto_renew", id: "create-auto-renew" }),
      h("label", { for: "create-auto-renew" }, "Renew automatically when 30 days remain (same key, no downtime)")),
    field("Metadata", h("textarea", { name: "metadata", rows: "3", spellcheck: "false", placeholder: '{"customer": "acme"}' }),
      "Optional: a JSON object, up to 1024 bytes, returned with the key."),
    error,
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "primary" }, "Create key")));
  const dialog = h("dialog", { "aria-labelledby": "create-key-title" }, form);
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    clearFormErrors(form);
    const f = form.elements;
    const body = { name: f.name.value.trim(), environment: f.environment.value };
    if (f.description.value.trim()) body.description = f.description.value.trim();
    if (f.service_account_id.value) body.service_account_id = f.service_account_id.value;
    else body.permissions = f.permissions.value.split(/[\s,]+/).filter(Boolean);
    if (f.project_id.value) body.project_id = f.project_id.value;
    const rate = { plan: f.plan.value };
    if (f.per_minute.value) rate.per_minute = Number(f.per_minute.value);
    if (f.per_hour.value) rate.per_hour = Number(f.per_hour.value);
    body.rate_limit = rate;
    if (f.auto_renew.checked) body.auto_renew = true;
    if (f.metadata.value.trim()) {
      try {
        body.metadata = JSON.parse(f.metadata.value);
      } catch {
        f.metadata.focus();
        return showError(error, { message: "Metadata is not valid JSON: write an object like {\"customer\": \"acme\"}." });
      }
    }
    if (f.expiry.value === "custom") {
      if (!f.expires_on.value) return showError(error, { message: "Choose the expiry date." });
      body.expires_at = new Date(`${f.expires_on.value}T23:59:59`).toISOString();
    } else if (f.expiry.value !== "never") {
      body.expires_at = new Date(Date.now() + Number(f.expiry.value) * 86_400_000).toISOString();
    }
    try {
      const created = await api("POST", "/v1/api-keys", body);
      dialog.close();
      showSecret(created.key);
      route();
    } catch (err) {
      showFormError(form, error, err);
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  form.elements.name.focus();
}

/**
 * The last days' requests as stacked bars (plain SVG: admitted, rate limited, denied), with the
 * numbers in each bar's tooltip and the totals in words for screen readers.
 */
function usageChart(days) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs = {}, ...children) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    el.append(...children);
    return el;
  };
  const width = 600, height = 140, gap = 2;
  const max = Math.max(1, ...days.map((d) => d.admitted + d.rate_limited + d.denied));
  const bar = (width - gap * days.length) / days.length;
  const totals = days.reduce((t, d) => ({ a: t.a + d.admitted, r: t.r + d.rate_limited, n: t.n + d.denied }), { a: 0, r: 0, n: 0 });
  const summary = `Last ${days.length} days: ${totals.a} admitted, ${totals.r} rate limited, ${totals.n} denied.`;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": summary, class: "chart" },
    ...days.map((d, i) => {
      const x = i * (bar + gap);
      let y = height;
      const parts = [["admitted", d.admitted], ["rate-limited", d.rate_limited], ["denied", d.denied]].map(([cls, n]) => {
        const hgt = (n / max) * (height - 10);
        y -= hgt;
        return svg("rect", { x, y, width: bar, height: hgt, class: cls });
      });
      return svg("g", {}, svg("title", {}, `${d.date}: ${d.admitted} admitted, ${d.rate_limited} rate limited, ${d.denied} denied`), ...parts);
    }));
  return h("figure", {}, chart,
    h("figcaption", {},
      h("span", { class: "legend admitted" }, "admitted"), " ",
      h("span", { class: "legend rate-limited" }, "rate limited"), " ",
      h("span", { class: "legend denied" }, "denied"), " · ", summary));
}

async function keyPage(id) {
  const [k, history, projects, accounts] = await Promise.all([
    api("GET", `/v1/api-keys/${id}`),
    api("GET", `/v1/api-keys/${id}/usage?days=30`),
    can("projects:read") ? all("/v1/projects") : [],
    can("service_accounts:read") ? all("/v1/service-accounts") : [],
  ]);
  const named = (list, id) => (id ? list.find((x) => x.id === id)?.name || id : "—");
  const writable = can("api_keys:write") && k.status !== "disabled";
  const info = h("dl", { class: "details" },
    [["ID", h("code", {}, k.id)], ["Key", h("code", {}, `${k.prefix}…`)], ["Status", h("span", { class: `status ${k.status}` }, k.status)],
      ["Environment", k.environment], ["Description", k.description || "—"],
      ["Permissions", k.permissions.length ? k.permissions.join(", ") : "none"],
      ["Roles", k.roles.length ? h("span", { id: "key-roles" }, k.roles.join(", ")) : "—"],
      ["Project", named(projects, k.project_id)], ["Service account", named(accounts, k.service_account_id)],
      ["Rate limit", `${k.rate_limit.plan}: ${k.rate_limit.per_minute}/min, ${k.rate_limit.per_hour}/h`],
      ["Metadata", k.metadata ? h("code", {}, JSON.stringify(k.metadata)) : "—"],
      ["Created", when(k.created_at)], ["Last used", when(k.last_used)], ["Expires", k.expires_at ? when(k.expires_at) : "never"],
      ["Auto-renew", k.auto_renew ? "on: renews when 30 days remain" : "off"],
      ["Rolled from", k.rolled_from ? h("a", { href: `#/keys/${k.rolled_from}` }, h("code", {}, k.rolled_from)) : "—"],
      ...(k.leaked ? [["Leaked", leakedWhere(k.leaked)]] : [])]
      .flatMap(([t, d]) => [h("dt", {}, t), h("dd", {}, d)]));
  const leakedAlert = k.leaked
    ? h("p", { class: "alert", role: "alert", id: "key-leaked" },
        `This key was reported leaked ${when(k.leaked.at)} by ${k.leaked.reporter === "github" ? "GitHub secret scanning" : "your team"}`,
        k.status === "disabled" ? " and is disabled." : ": it still works (the team's leak policy is to notify). Roll or disable it.")
    : null;
  const usage = h("section", { "aria-labelledby": "usage-title" },
    h("h2", { id: "usage-title" }, "Usage"),
    h("dl", { class: "stats" },
      h("dt", {}, "Requests today"), h("dd", {}, String(k.usage.requests_today)),
      h("dt", {}, "Requests this month"), h("dd", {}, String(k.usage.requests_this_month))),
    usageChart(history.days),
    h("h3", {}, "Used from"),
    table("Locations", ["Country", "First seen", "Last seen"],
      (k.locations || []).map((l) => [l.country, when(l.first_seen), when(l.last_seen)]),
      "No requests with a known country yet."));
  const edit = writable ? editKeyForm(k) : null;
  const actions = can("api_keys:write")
    ? h("div", { class: "actions" },
        k.status === "active" ? h("button", { type: "button", onclick: () => rollDialog(k) }, "Roll") : null,
        k.status !== "disabled"
          ? h("button", { type: "button", class: "danger", onclick: () => confirmAction({
              title: `Disable “${k.name}”?`,
              text: "Requests with this key are refused from the next one on, everywhere. A disabled key cannot be enabled again.",
              ok: "Disable key",
              action: async () => {
                await api("POST", `/v1/api-keys/${k.id}/disable`);
                toast(`“${k.name}” is disabled.`);
                route();
              },
            }) }, "Disable")
          : null,
        h("button", { type: "button", class: "danger", onclick: () => confirmAction({
          title: `Delete “${k.name}”?`,
          text: "The key stops working at once and is removed from the list. This cannot be undone.",
          ok: "Delete key",
          action: async () => {
            await api("DELETE", `/v1/api-keys/${k.id}`);
            toast(`“${k.name}” is deleted.`);
            location.hash = "#/keys";
          },
        }) }, "Delete"))
    : null;
  return [h("p", {}, h("a", { href: "#/keys" }, "← API keys")), h("h1", {}, k.name), leakedAlert, info, usage, edit, actions];
}

// Where a leak was found: the URL as a link only when it is https (it is what the reporter sent).
function leakedWhere(leak) {
  const where = leak.url && /^https:\/\//.test(leak.url)
    ? h("a", { href: leak.url, rel: "noopener noreferrer", target: "_blank" }, leak.url)
    : leak.url || "an unknown place";
  return h("span", { id: "key-leaked-where" }, when(leak.at), " — ", where, leak.source ? ` (${leak.source})` : "");
}

function editKeyForm(k) {
  const error = errorLine("edit-key-error");
  const expires = h("input", { name: "expires_on", type: "date", value: k.expires_at ? k.expires_at.slice(0, 10) : "" });
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "edit-title" },
    h("h2", { id: "edit-title" }, "Edit"),
    field("Name", h("input", { name: "name", value: k.name, required: true, maxlength: "100" })),
    field("Description", h("input", { name: "description", value: k.description || "", maxlength: "500" })),
    field("Expires on", expires, "Empty: never."),
    h("div", { class: "field check" },
      h("input", { type: "checkbox", name: "auto_renew", id: "edit-auto-renew", checked: k.auto_renew }),
      h("label", { for: "edit-auto-renew" }, "Renew automatically when 30 days remain")),
    error,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save changes")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const f = form.elements;
    const patch = { name: f.name.value.trim(), description: f.description.value.trim() || null };
    patch.expires_at = f.expires_on.value ? new Date(`${f.expires_on.value}T23:59:59`).toISOString() : null;
    patch.auto_renew = f.auto_renew.checked;
    try {
      await api("PATCH", `/v1/api-keys/${k.id}`, patch);
      toast("Saved.");
      route();
    } catch (err) {
      showFormError(form, error, err);
    }
  });
  return form;
}

/** Roll: a new key now, the old one for the overlap chosen; the new key is shown once. */
function rollDialog(k) {
  const error = errorLine("roll-error");
  const overlap = h("select", { name: "expire_old_in" },
    h("option", { value: "0" }, "Stop the old key now"),
    h("option", { value: "3600" }, "1 hour"),
    h("option", { value: "86400", selected: true }, "24 hours"),
    h("option", { value: "604800" }, "7 days"),
    h("option", { value: "2592000" }, "30 days"));
  const form = h("form", { method: "dialog", novalidate: true },
    h("h2", { id: "roll-title" }, `Roll “${k.name}”`),
    h("p", {}, "A new key replaces this one, with the same name, permissions, project, rate limit, expiry and metadata. Move your service to the new key before the old one stops working."),
    field("Keep the old key working for", overlap),
    error,
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "primary" }, "Roll key")));
  const dialog = h("dialog", { "aria-labelledby": "roll-title" }, form);
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      const created = await api("POST", `/v1/api-keys/${k.id}/roll`, { expire_old_in: Number(overlap.value) });
      dialog.close();
      showSecret(created.key);
      location.hash = `#/keys/${created.id}`;
    } catch (err) {
      showFormError(form, error, err);
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  overlap.focus();
}

// ---------------------------------------------------------------------------------------------
// Webhooks.

const EVENTS = ["api_key.created", "api_key.updated", "api_key.rolled", "api_key.disabled", "api_key.deleted",
  "api_key.expiring", "api_key.expired", "api_key.renewed", "api_key.rate_limited", "api_key.new_location", "api_key.leaked",
  "member.added", "member.removed"];

const hookStatus = (w) => (w.enabled ? "enabled" : w.disabled_reason ? `disabled (${w.disabled_reason === "gone" ? "it answered 410 Gone" : "failing for 5 days"})` : "disabled");

async function webhooksPage() {
  const hooks = await all("/v1/webhooks");
  const write = can("webhooks:write");
  const error = errorLine("webhook-error");
  const all_ = h("input", { type: "checkbox", name: "all", id: "events-all", checked: true });
  const boxes = EVENTS.map((e) => h("label", { class: "event" }, h("input", { type: "checkbox", name: "events", value: e }), ` ${e}`));
  const list = h("div", { class: "events", hidden: true }, boxes);
  all_.addEventListener("change", () => (list.hidden = all_.checked));
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "new-hook-title" },
    h("h2", { id: "new-hook-title" }, "Add an endpoint"),
    field("URL", h("input", { name: "url", type: "url", required: true, placeholder: "https://hooks.example.com/keygate", spellcheck: "false" }),
      "https:// and a public host. keygate POSTs each event there, signed."),
    h("fieldset", {}, h("legend", {}, "Events"),
      h("div", { class: "field check" }, all_, h("label", { for: "events-all" }, "All events")), list),
    field("Description", h("input", { name: "description", maxlength: "500", autocomplete: "off" })),
    error,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Add endpoint")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    clearFormErrors(form);
    const events = all_.checked ? ["*"] : boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const body = { url: form.elements.url.value.trim(), events };
    if (form.elements.description.value.trim()) body.description = form.elements.description.value.trim();
    try {
      const created = await api("POST", "/v1/webhooks", body);
      showSecret(created.secret, { title: "Copy the signing secret", label: "Signing secret", what: "secret" });
      route();
    } catch (err) {
      showFormError(form, error, err);
    }
  });
  return [
    h("h1", {}, "Webhooks"),
    table("Webhooks", ["Endpoint", "Events", "Status", "Created"], hooks.map((w) => [
      h("a", { href: `#/webhooks/${w.id}` }, w.url), w.events.join(", "), hookStatus(w), day(w.created_at),
    ]), "No endpoints yet: add one to hear about keys expiring, renewing, being disabled and more."),
    write ? form : null,
  ];
}

async function webhookPage(id) {
  const [w, deliveries] = await Promise.all([
    api("GET", `/v1/webhooks/${id}`),
    api("GET", `/v1/webhooks/${id}/deliveries?limit=50`),
  ]);
  const write = can("webhooks:write");
  const info = h("dl", { class: "details" },
    [["ID", h("code", {}, w.id)], ["URL", h("code", {}, w.url)], ["Events", w.events.join(", ")],
      ["Status", hookStatus(w)], ["Description", w.description || "—"], ["Created", when(w.created_at)]]
      .flatMap(([t, d]) => [h("dt", {}, t), h("dd", {}, d)]));
  const result = (d) => (d.status !== null ? String(d.status) : d.error || "no answer");
  const log = h("section", { "aria-labelledby": "deliveries-title" },
    h("h2", { id: "deliveries-title" }, "Recent deliveries"),
    h("button", { type: "button", onclick: () => route() }, "Refresh"),
    table("Deliveries", ["Time", "Event", "Attempt", "Result", "Duration", ""], deliveries.data.map((d) => [
      when(d.at), h("span", {}, d.type, " ", h("code", {}, d.event_id)), String(d.attempt),
      h("span", { class: d.status >= 200 && d.status < 300 ? "ok" : "error" }, result(d)), `${d.duration_ms} ms`,
      write ? h("button", { type: "button", class: "small", "aria-label": `Send ${d.event_id} again`, onclick: async () => {
        await api("POST", `/v1/webhooks/${w.id}/deliveries/${d.event_id}/retry`);
        toast("Sent again.");
        setTimeout(route, 1500);
      } }, "Retry") : "",
    ]), "Nothing delivered yet. Send a test event to check the endpoint."));
  const actions = write
    ? h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: async () => {
          await api("POST", `/v1/webhooks/${w.id}/test`);
          toast("Test event sent.");
          setTimeout(route, 1500);
        } }, "Send test event"),
        h("button", { type: "button", onclick: async () => {
          await api("PATCH", `/v1/webhooks/${w.id}`, { enabled: !w.enabled });
          toast(w.enabled ? "Disabled." : "Enabled.");
          route();
        } }, w.enabled ? "Disable" : "Enable"),
        h("button", { type: "button", onclick: () => confirmAction({
          title: "Rotate the signing secret?",
          text: "A new secret is shown once. For 24 hours deliveries carry both signatures, so your receiver can switch without missing one.",
          ok: "Rotate secret",
          action: async () => {
            const r = await api("POST", `/v1/webhooks/${w.id}/rotate-secret`);
            showSecret(r.secret, { title: "Copy the new signing secret", label: "Signing secret", what: "secret" });
          },
        }) }, "Rotate secret"),
        h("button", { type: "button", class: "danger", onclick: () => confirmAction({
          title: "Delete this endpoint?", text: "Nothing more is sent to it, and its delivery log goes with it.", ok: "Delete endpoint",
          action: async () => {
            await api("DELETE", `/v1/webhooks/${w.id}`);
            location.hash = "#/webhooks";
          },
        }) }, "Delete"))
    : null;
  return [h("p", {}, h("a", { href: "#/webhooks" }, "← Webhooks")), h("h1", {}, "Webhook endpoint"), info, actions, log];
}

// ---------------------------------------------------------------------------------------------
// Audit log and monitoring.

async function auditPage(params) {
  const query = new URLSearchParams();
  for (const k of ["action", "actor_id", "target_id", "cursor"]) if (params.get(k)) query.set(k, params.get(k));
  query.set("limit", "50");
  const page = await api("GET", `/v1/audit-log?${query}`);
  const filters = h("form", { class: "filters inline", role: "search", "aria-label": "Filter the audit log" },
    field("Action", h("input", { name: "action", value: params.get("action") || "", placeholder: "api_key.disabled", spellcheck: "false" })),
    field("Actor ID", h("input", { name: "actor_id", value: params.get("actor_id") || "", spellcheck: "false" })),
    field("Target ID", h("input", { name: "target_id", value: params.get("target_id") || "", spellcheck: "false" })),
    h("button", { type: "submit" }, "Filter"));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new URLSearchParams();
    for (const k of ["action", "actor_id", "target_id"]) if (filters.elements[k].value.trim()) f.set(k, filters.elements[k].value.trim());
    location.hash = `#/audit${f.size ? `?${f}` : ""}`;
  });
  const who = (a) => (a.id ? `${a.type} ${a.id}` : a.type);
  const older = new URLSearchParams(query);
  older.delete("limit");
  if (page.next_cursor) older.set("cursor", page.next_cursor);
  return [
    h("h1", {}, "Audit log"),
    filters,
    table("Audit log", ["Time", "Action", "Actor", "Target", "Changes", "From"], page.data.map((e) => [
      when(e.at), h("code", {}, e.action), who(e.actor), `${e.target.type} ${e.target.id}`,
      e.changes ? h("code", {}, JSON.stringify(e.changes)) : "—",
      [e.ip, e.country].filter(Boolean).join(" · ") || "—",
    ]), "No entries (for these filters)."),
    page.has_more ? h("p", {}, h("a", { href: `#/audit?${older}` }, "Older entries →")) : null,
  ];
}

async function monitoringPage() {
  const m = await api("GET", "/v1/monitoring");
  const stat = (label, value) => [h("dt", {}, label), h("dd", {}, String(value))];
  return [
    h("h1", {}, "Monitoring"),
    h("p", { class: "hint" }, `The last 24 hours (since ${when(m.since)}); keys report at most once a minute.`),
    h("dl", { class: "stats" },
      stat("Requests", m.requests), stat("Admitted", m.admitted), stat("Rate limited", m.rate_limited),
      stat("Keys expiring within 30 days", m.keys_expiring_30d)),
    h("h2", {}, "Refused, by reason"),
    table("Refusals by reason", ["Reason", "Requests"], Object.entries(m.denied_by_reason).map(([r, n]) => [h("code", {}, r), String(n)]), "No refusals."),
    h("h2", {}, "Busiest keys"),
    table("Busiest keys", ["Key", "Requests"], m.top_keys.map((k) => [h("a", { href: `#/keys/${k.key_id}` }, k.name), String(k.requests)]), "No requests yet."),
  ];
}

// ---------------------------------------------------------------------------------------------
// Projects, roles, service accounts.

/** A one-line create form: fields, a submit button, the error below. */
function inlineForm(label, fields, submit) {
  const error = errorLine(`${label.replace(/\W+/g, "-").toLowerCase()}-error`);
  const form = h("form", { class: "inline", novalidate: true, "aria-label": label }, fields, h("button", { type: "submit", class: "primary" }, label), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      await submit(form.elements);
      route();
    } catch (err) {
      showFormError(form, error, err);
    }
  });
  return form;
}

function deleteButton(what, name, path) {
  return h("button", { type: "button", class: "danger small", "aria-label": `Delete ${what} ${name}`, onclick: () => confirmAction({
    title: `Delete ${what} “${name}”?`, text: "This cannot be undone.", ok: `Delete ${what}`,
    action: async () => {
      await api("DELETE", path);
      route();
    },
  }) }, "Delete");
}

async function projectsPage() {
  const projects = await all("/v1/projects");
  return [
    h("h1", {}, "Projects"),
    h("p", { class: "lede" }, "A key scoped to a project acts only inside it."),
    can("projects:write")
      ? inlineForm("Create project", [field("Project name", h("input", { name: "name", required: true, maxlength: "100" }))],
          (f) => api("POST", "/v1/projects", { name: f.name.value.trim() }))
      : null,
    table("Projects", ["Name", "ID", "Created", ""], projects.map((p) => [
      p.name, h("code", {}, p.id), day(p.created_at),
      can("projects:write") ? deleteButton("project", p.name, `/v1/projects/${p.id}`) : "",
    ]), "No projects yet."),
  ];
}

async function rolesPage() {
  const roles = await all("/v1/roles");
  return [
    h("h1", {}, "Roles"),
    h("p", { class: "lede" }, "Named sets of permissions, given to service accounts."),
    can("roles:write")
      ? inlineForm("Create role", [
          field("Role name", h("input", { name: "name", required: true, maxlength: "100" })),
          field("Permissions", h("input", { name: "permissions", placeholder: "tasks:read, events:*", spellcheck: "false" })),
        ], (f) => api("POST", "/v1/roles", { name: f.name.value.trim(), permissions: f.permissions.value.split(/[\s,]+/).filter(Boolean) }))
      : null,
    table("Roles", ["Name", "Permissions", "Created", ""], roles.map((r) => [
      r.name, r.permissions.join(", ") || "none", day(r.created_at),
      can("roles:write") ? deleteButton("role", r.name, `/v1/roles/${r.id}`) : "",
    ]), "No roles yet."),
  ];
}

async function accountsPage() {
  const [accounts, roles] = await Promise.all([all("/v1/service-accounts"), can("roles:read") ? all("/v1/roles") : []]);
  return [
    h("h1", {}, "Service accounts"),
    h("p", { class: "lede" }, "Machine identities: their keys take the permissions of their roles."),
    can("service_accounts:write")
      ? inlineForm("Create service account", [
          field("Account name", h("input", { name: "name", required: true, maxlength: "100" })),
          field("Roles", h("select", { name: "roles", multiple: true, size: String(Math.min(5, Math.max(2, roles.length))) },
            roles.map((r) => h("option", { value: r.name }, r.name))), "Hold Ctrl (or ⌘) to choose several."),
        ], (f) => api("POST", "/v1/service-accounts", { name: f.name.value.trim(), roles: [...f.roles.selectedOptions].map((o) => o.value) }))
      : null,
    table("Service accounts", ["Name", "Roles", "Created", ""], accounts.map((a) => [
      a.name, a.roles.join(", ") || "none", day(a.created_at),
      can("service_accounts:write") ? deleteButton("service account", a.name, `/v1/service-accounts/${a.id}`) : "",
    ]), "No service accounts yet."),
  ];
}

// ---------------------------------------------------------------------------------------------
// Members and invitations.

const ROLES = ["owner", "admin", "developer", "viewer"];

async function membersPage() {
  const members = await all("/v1/members");
  const manage = can("members:write");
  const invitations = manage || can("members:read") ? await all("/v1/invitations") : [];
  const roleSelect = (m) => {
    const select = h("select", { "aria-label": `Role of ${m.email}` },
      ROLES.map((r) => h("option", { value: r, selected: r === m.role }, r)));
    const error = errorLine(`role-error-${m.id}`);
    select.addEventListener("change", async () => {
      error.hidden = true;
      try {
        await api("PATCH", `/v1/members/${m.id}`, { role: select.value });
        toast(`${m.email} is now ${select.value}.`);
      } catch (e) {
        select.value = m.role;
        showError(error, e);
      }
    });
    return h("div", {}, select, error);
  };
  let inviteResult = h("div", { id: "invite-result" });
  return [
    h("h1", {}, "Members"),
    table("Members", ["Email", "Role", "Joined", "Last sign-in", ""], members.map((m) => [
      m.email + (m.id === me.member.id ? " (you)" : ""),
      manage ? roleSelect(m) : m.role,
      day(m.created_at), when(m.last_login_at),
      manage && m.id !== me.member.id ? h("button", { type: "button", class: "danger small", "aria-label": `Remove ${m.email}`, onclick: () => confirmAction({
        title: `Remove ${m.email}?`, text: "They are signed out at once and can no longer sign in to this team.", ok: "Remove member",
        action: async () => {
          await api("DELETE", `/v1/members/${m.id}`);
          route();
        },
      }) }, "Remove") : "",
    ]), "No members."),
    manage ? h("section", { "aria-labelledby": "invite-title" },
      h("h2", { id: "invite-title" }, "Invite someone"),
      (() => {
        const error = errorLine("invite-error");
        const form = h("form", { class: "inline", novalidate: true, "aria-labelledby": "invite-title" },
          field("Email", h("input", { name: "email", type: "email", required: true, autocomplete: "off" })),
          field("Role", h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r, selected: r === "developer" }, r)))),
          h("button", { type: "submit", class: "primary" }, "Send invitation"), error);
        form.addEventListener("submit", async (e) => {
          e.preventDefault();
          error.hidden = true;
          try {
            const inv = await api("POST", "/v1/invitations", { email: form.email.value.trim(), role: form.role.value });
            const link = `${location.origin}/accept.html#token=${encodeURIComponent(inv.token)}`;
            const linkInput = h("input", { readonly: true, value: link, id: "invite-link", spellcheck: "false" });
            inviteResult.replaceChildren(
              h("p", { class: "warning" }, `Send this link to ${inv.email}. It works once, for 7 days, and is not shown again.`),
              h("label", { for: "invite-link" }, "Invitation link"),
              h("div", { class: "copy-row" }, linkInput,
                h("button", { type: "button", onclick: async () => {
                  try { await navigator.clipboard.writeText(link); toast("Link copied."); } catch { linkInput.select(); }
                } }, "Copy link")));
            form.reset();
          } catch (err) {
            showFormError(form, error, err);
          }
        });
        return form;
      })(),
      inviteResult) : null,
    invitations.length ? h("section", { "aria-labelledby": "pending-title" },
      h("h2", { id: "pending-title" }, "Pending invitations"),
      table("Pending invitations", ["Email", "Role", "Expires", ""], invitations.map((i) => [
        i.email, i.role, when(i.expires_at),
        manage ? h("button", { type: "button", class: "danger small", "aria-label": `Withdraw the invitation of ${i.email}`, onclick: () => confirmAction({
          title: `Withdraw the invitation of ${i.email}?`, text: "Its link stops working.", ok: "Withdraw",
          action: async () => { await api("DELETE", `/v1/invitations/${i.id}`); route(); },
        }) }, "Withdraw") : "",
      ]), "")) : null,
  ];
}

// ---------------------------------------------------------------------------------------------
// The shell.

const PAGES = [
  [/^#\/keys\/(key_\w+)$/, (m) => keyPage(m[1])],
  [/^#\/keys(?:\?(.*))?$/, (m) => keysPage(new URLSearchParams(m[1] || ""))],
  [/^#\/projects$/, projectsPage],
  [/^#\/roles$/, rolesPage],
  [/^#\/service-accounts$/, accountsPage],
  [/^#\/members$/, membersPage],
  [/^#\/webhooks\/(wh_\w+)$/, (m) => webhookPage(m[1])],
  [/^#\/webhooks$/, webhooksPage],
  [/^#\/audit(?:\?(.*))?$/, (m) => auditPage(new URLSearchParams(m[1] || ""))],
  [/^#\/monitoring$/, monitoringPage],
];

async function route() {
  if (!location.hash) history.replaceState(null, "", "#/keys");
  const hash = location.hash;
  const page = PAGES.find(([re]) => re.test(hash));
  if (!page) {
    location.hash = "#/keys";
    return;
  }
  for (const a of document.querySelectorAll("nav a")) {
    const current = hash.startsWith(a.getAttribute("href"));
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  try {
    const content = await page[1](hash.match(page[0]));
    view.replaceChildren(...[content].flat().filter(Boolean));
  } catch (e) {
    if (e.status === 401) return location.assign("/");
    view.replaceChildren(h("h1", {}, "Something went wrong"), h("p", { class: "error", role: "alert" }, e.message));
  }
}

async function start() {
  try {
    me = await api("GET", "/v1/me");
  } catch {
    location.assign("/");
    return;
  }
  document.getElementById("team-name").textContent = me.team.name;
  document.getElementById("who").textContent = `${me.member.email} · ${me.member.role}`;
  document.getElementById("signout").addEventListener("click", async () => {
    await api("DELETE", "/v1/session").catch(() => {});
    location.assign("/");
  });
  window.addEventListener("hashchange", route);
  await route();
}

start();
