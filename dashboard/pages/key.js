// One API key (#/keys/<id>): its details, usage chart and locations, the edit form, and Roll,
// Disable and Delete behind their confirmations (pages/key-actions.js, shared with the list).
import { api, all } from "/api.js";
import { h, can, when, field, table, toast, errorLine, showFormError, clearFormErrors, route } from "/ui.js";
import { keyActions } from "/pages/key-actions.js";
import { policyFields, policyRows, readPolicy, showPolicyError } from "/pages/usage-policy.js";

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

export async function keyPage(id) {
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
      ...policyRows(k),
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
  const actions = keyActions(k, {
    // Rolled: on to the new key's page; deleted: back to the list.
    rolled: (created) => (location.hash = `#/keys/${created.id}`),
    deleted: () => (location.hash = "#/keys"),
  });
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
    policyFields(k),
    error,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save changes")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const f = form.elements;
    const patch = { name: f.name.value.trim(), description: f.description.value.trim() || null };
    patch.expires_at = f.expires_on.value ? new Date(`${f.expires_on.value}T23:59:59`).toISOString() : null;
    patch.auto_renew = f.auto_renew.checked;
    clearFormErrors(form);
    try {
      Object.assign(patch, readPolicy(f, k));
      await api("PATCH", `/v1/api-keys/${k.id}`, patch);
      toast("Saved.");
      route();
    } catch (err) {
      if (!showPolicyError(form, err)) showFormError(form, error, err);
    }
  });
  return form;
}
