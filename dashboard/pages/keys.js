// The API keys list (#/keys, filtered by environment and project), each key's actions next to
// it, and the create-key dialog.
import { api, all } from "/api.js";
import { h, can, day, when, field, table, errorLine, showError, showFormError, clearFormErrors, showSecret, route } from "/ui.js";
import { keyActions } from "/pages/key-actions.js";
import { policyFields, readPolicy, showPolicyError } from "/pages/usage-policy.js";

// The idle filter's choices (`?idle_days=N`).
const IDLE = [30, 90];

export async function keysPage(params) {
  const [projects, accounts] = await Promise.all([
    can("projects:read") ? all("/v1/projects") : [],
    can("service_accounts:read") ? all("/v1/service-accounts") : [],
  ]);
  const projectName = (id) => projects.find((p) => p.id === id)?.name || id || "—";
  const environment = params.get("environment") || "";
  const project = params.get("project_id") || "";
  const idle = params.get("idle_days") || "";
  const query = new URLSearchParams();
  if (environment) query.set("environment", environment);
  if (project) query.set("project_id", project);
  if (idle) query.set("idle_days", idle);
  const keys = await all(`/v1/api-keys${query.size ? `?${query}` : ""}`);

  const filters = h(
    "form",
    { class: "filters", "aria-label": "Filter keys", onchange: (e) => {
      const f = new URLSearchParams();
      const form = e.currentTarget;
      if (form.environment.value) f.set("environment", form.environment.value);
      if (form.project_id.value) f.set("project_id", form.project_id.value);
      if (form.idle_days.value) f.set("idle_days", form.idle_days.value);
      location.hash = `#/keys${f.size ? `?${f}` : ""}`;
    } },
    field("Environment", h("select", { name: "environment" },
      h("option", { value: "" }, "All"),
      ["live", "test"].map((e) => h("option", { value: e, selected: e === environment }, e)))),
    field("Project", h("select", { name: "project_id" },
      h("option", { value: "" }, "All"),
      projects.map((p) => h("option", { value: p.id, selected: p.id === project }, p.name)))),
    field("Idle", h("select", { name: "idle_days" },
      h("option", { value: "" }, "Any"),
      IDLE.map((n) => h("option", { value: String(n), selected: String(n) === idle }, `Idle ≥ ${n} days`)))),
  );

  const write = can("api_keys:write");
  const rows = keys.map((k) => [
    h("a", { href: `#/keys/${k.id}` }, k.name),
    h("code", {}, `${k.prefix}…`),
    k.environment,
    projectName(k.project_id),
    h("span", { class: `status ${k.status}` }, k.status),
    day(k.created_at),
    when(k.last_used),
    h("span", { title: "Days since last use (or creation)" }, String(k.idle_days)),
    k.expires_at ? day(k.expires_at) : "never",
    // Roll, Disable and Delete next to the key, behind the key page's confirmations; each
    // button's accessible name says which key ("Disable Billing worker (sk_live_ab…)").
    ...(write ? [keyActions(k, { small: true, label: (verb) => `${verb} ${k.name} (${k.prefix}…)` }) || ""] : []),
  ]);
  return [
    h("div", { class: "title-row" },
      h("h1", {}, "API keys"),
      can("api_keys:write")
        ? h("button", { type: "button", class: "primary", onclick: () => createKeyDialog(projects, accounts) }, "Create API key")
        : null),
    filters,
    table("API keys", ["Name", "Key", "Environment", "Project", "Status", "Created", "Last used", "Idle days", "Expires", ...(write ? ["Actions"] : [])], rows,
      idle ? `No keys idle ${idle} days or more.` : "No API keys yet."),
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
    policyFields(),
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
    try {
      const policy = readPolicy(f);
      if (policy.rate_limit) Object.assign(rate, policy.rate_limit);
      if (policy.credits) body.credits = policy.credits;
      if (policy.allowed_ips) body.allowed_ips = policy.allowed_ips;
    } catch (err) {
      return showPolicyError(form, err) || showFormError(form, error, err);
    }
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
      if (!showPolicyError(form, err)) showFormError(form, error, err);
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  form.elements.name.focus();
}
