// A key's actions, Roll, Disable and Delete, each behind its confirmation: the same buttons and
// dialogs on the key's page (pages/key.js) and next to each key in the list (pages/keys.js).
import { api } from "/api.js";
import { h, can, toast, field, errorLine, showFormError, confirmAction, showSecret, route } from "/ui.js";

/**
 * The buttons for key `k`, or null when the member may not change keys. `label` gives each button
 * its accessible name (in the list: "Disable Billing worker (sk_live_ab…)"); `rolled(created)` and
 * `deleted()` say where to go after (by default the current page is shown again).
 */
export function keyActions(k, { label = (verb) => verb, small = false, rolled = () => route(), deleted = () => route() } = {}) {
  if (!can("api_keys:write")) return null;
  const cls = (c) => [c, small ? "small" : null].filter(Boolean).join(" ") || undefined;
  const button = (verb, c, onclick) =>
    h("button", { type: "button", class: cls(c), "aria-label": label(verb) === verb ? undefined : label(verb), onclick }, verb);
  return h("div", { class: small ? "row-actions" : "actions" },
    k.status === "active" ? button("Roll", null, () => rollDialog(k, rolled)) : null,
    k.status !== "disabled"
      ? button("Disable", "danger", () => confirmAction({
          title: `Disable “${k.name}”?`,
          text: "Requests with this key are refused from the next one on, everywhere. A disabled key cannot be enabled again.",
          ok: "Disable key",
          action: async () => {
            await api("POST", `/v1/api-keys/${k.id}/disable`);
            toast(`“${k.name}” is disabled.`);
            route();
          },
        }))
      : null,
    button("Delete", "danger", () => confirmAction({
      title: `Delete “${k.name}”?`,
      text: "The key stops working at once and is removed from the list. This cannot be undone.",
      ok: "Delete key",
      action: async () => {
        await api("DELETE", `/v1/api-keys/${k.id}`);
        toast(`“${k.name}” is deleted.`);
        deleted();
      },
    })));
}

/** Roll: a new key now, the old one for the overlap chosen; the new key is shown once. */
export function rollDialog(k, rolled) {
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
      rolled(created);
    } catch (err) {
      showFormError(form, error, err);
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  overlap.focus();
}
