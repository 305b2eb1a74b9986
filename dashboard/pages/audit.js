// The audit log (#/audit), filtered by action, actor and target, fifty entries a page.
import { api } from "/api.js";
import { h, when, field, table } from "/ui.js";
import { EVENTS } from "/pages/webhooks.js";

export async function auditPage(params) {
  const query = new URLSearchParams();
  for (const k of ["action", "actor_id", "target_id", "cursor"]) if (params.get(k)) query.set(k, params.get(k));
  query.set("limit", "50");
  const page = await api("GET", `/v1/audit-log?${query}`);
  const filters = h("form", { class: "filters inline", role: "search", "aria-label": "Filter the audit log" },
    field("Action", h("input", { name: "action", value: params.get("action") || "", placeholder: "api_key.disabled", spellcheck: "false", list: "audit-actions" })),
    h("datalist", { id: "audit-actions" }, EVENTS.map((e) => h("option", { value: e }))),
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
