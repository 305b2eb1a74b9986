// Members and invitations (#/members).
import { api, all } from "/api.js";
import { h, can, day, when, field, table, toast, errorLine, showError, showFormError, confirmAction, session, route } from "/ui.js";

const ROLES = ["owner", "admin", "developer", "viewer"];

export async function membersPage() {
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
      m.email + (m.id === session.me.member.id ? " (you)" : ""),
      manage ? roleSelect(m) : m.role,
      day(m.created_at), when(m.last_login_at),
      manage && m.id !== session.me.member.id ? h("button", { type: "button", class: "danger small", "aria-label": `Remove ${m.email}`, onclick: () => confirmAction({
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
