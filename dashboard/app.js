// The dashboard's shell: one page, sections by the URL's fragment (#/keys, #/keys/<id>, #/projects,
// #/roles, #/service-accounts, #/members, #/webhooks, #/audit, #/monitoring), each section its own
// module under /pages/ over the shared /api.js and /ui.js. Everything it shows comes from the API
// with the session cookie; what a member may do is what `GET /v1/me` says their role holds, and
// the API refuses the rest anyway. No framework, no build step and no CDN: plain DOM, built with `h()`.
import { api } from "/api.js";
import { h, session, setRouter } from "/ui.js";
import { keysPage } from "/pages/keys.js";
import { keyPage } from "/pages/key.js";
import { projectsPage } from "/pages/projects.js";
import { rolesPage } from "/pages/roles.js";
import { accountsPage } from "/pages/service-accounts.js";
import { membersPage } from "/pages/members.js";
import { webhooksPage, webhookPage } from "/pages/webhooks.js";
import { auditPage } from "/pages/audit.js";
import { monitoringPage } from "/pages/monitoring.js";

const view = document.getElementById("view");

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

setRouter(route);

async function start() {
  try {
    session.me = await api("GET", "/v1/me");
  } catch {
    location.assign("/");
    return;
  }
  document.getElementById("team-name").textContent = session.me.team.name;
  document.getElementById("who").textContent = `${session.me.member.email} · ${session.me.member.role}`;
  document.getElementById("signout").addEventListener("click", async () => {
    await api("DELETE", "/v1/session").catch(() => {});
    location.assign("/");
  });
  window.addEventListener("hashchange", route);
  await route();
}

start();
