// Projects (#/projects): a key scoped to a project acts only inside it.
import { api, all } from "/api.js";
import { h, can, day, field, table, inlineForm, deleteButton } from "/ui.js";

export async function projectsPage() {
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
