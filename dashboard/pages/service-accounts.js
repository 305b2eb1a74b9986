// Service accounts (#/service-accounts): machine identities whose keys take their roles' permissions.
import { api, all } from "/api.js";
import { h, can, day, field, table, inlineForm, deleteButton } from "/ui.js";

export async function accountsPage() {
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
