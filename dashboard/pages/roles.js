// Roles (#/roles): named sets of permissions, given to service accounts.
import { api, all } from "/api.js";
import { h, can, day, field, table, inlineForm, deleteButton } from "/ui.js";

export async function rolesPage() {
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
