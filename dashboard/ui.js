// The dashboard's shared UI: `h()` to build elements, the signed-in member (`session.me`, from
// `GET /v1/me`) and `can()` to hide what their role does not hold, dates, form errors, tables,
// the confirmation and the shown-once secret dialogs (their markup is in dashboard/index.html),
// and `route()`, which renders the current page again (the shell registers the router).
import { api } from "/api.js";

/** The signed-in member, as `GET /v1/me` answered (set by the shell before any page renders). */
export const session = { me: null };

let router = () => {};
/** Registers the shell's router (dashboard/app.js). */
export function setRouter(fn) {
  router = fn;
}
/** Renders the current page again (after a change). */
export function route() {
  return router();
}

/** An element: `h("button", {type: "button", onclick}, "Save")`. */
export function h(tag, attrs = {}, ...children) {
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
export function can(wanted) {
  const [res] = wanted.split(":");
  const own = ["api_keys", "projects", "roles", "service_accounts", "webhooks", "members", "audit_log"];
  return session.me.permissions.some(
    (p) =>
      p === "admin:*" ||
      p === wanted ||
      p === `${res}:*` ||
      (p === "*:*" && !own.includes(res) && res !== "admin"),
  );
}

export const when = (t) => (t ? new Date(t).toLocaleString() : "—");
export const day = (t) => (t ? new Date(t).toLocaleDateString() : "—");

export function toast(message) {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

/** A form's error line, next to the form's submit button. */
export function errorLine(id) {
  return h("p", { class: "error", id, role: "alert", hidden: true });
}

export function showError(el, e) {
  el.textContent = e.message;
  el.hidden = false;
}

/**
 * An API error in a form: next to the field it names when it names one of the form's fields
 * (the API's `detail` starts with it: "`name` must not be empty"), marked `aria-invalid` and
 * focused; otherwise on the form's own error line.
 */
export function showFormError(form, fallback, e) {
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

export function clearFormErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) p.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    if (input.dataset.describedBy) input.setAttribute("aria-describedby", input.dataset.describedBy);
    else input.removeAttribute("aria-describedby");
  }
}

/** A labelled field: `field("Name", h("input", {...}))`. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hintEl);
}

export function table(caption, columns, rows, empty) {
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
export function confirmAction({ title, text, ok, action }) {
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
export function showSecret(key, { title = "Copy your new API key", label = "API key", what = "key" } = {}) {
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


/** A one-line create form: fields, a submit button, the error below. */
export function inlineForm(label, fields, submit) {
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

export function deleteButton(what, name, path) {
  return h("button", { type: "button", class: "danger small", "aria-label": `Delete ${what} ${name}`, onclick: () => confirmAction({
    title: `Delete ${what} “${name}”?`, text: "This cannot be undone.", ok: `Delete ${what}`,
    action: async () => {
      await api("DELETE", path);
      route();
    },
  }) }, "Delete");
}
