// Security (#/security): the member's own two-factor sign-in (enrol with a QR code or the secret
// as text, confirm with a code, recovery codes shown once, turn off with a code), the team's
// requirement (an owner's switch), and the member's sessions, each with "Sign out".
import { api } from "/api.js";
import { h, when, field, table, toast, errorLine, showFormError, session, route } from "/ui.js";
import qrcode from "/vendor/qrcode.mjs";

// The API of two-factor sign-in (contract "Embedding and accounts"), in one place.
const TOTP = "/v1/me/totp";

/**
 * A QR code of `text` as SVG, drawn from the vendored generator's modules (no innerHTML, no data
 * URL: the CSP stays as it is). Error correction M, the smallest version that holds it.
 */
function qrSvg(text, label) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4;
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  const size = n + quiet * 2;
  for (const [k, v] of Object.entries({ viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": label, class: "qr", "shape-rendering": "crispEdges" })) {
    svg.setAttribute(k, v);
  }
  const bg = document.createElementNS(NS, "rect");
  for (const [k, v] of Object.entries({ width: size, height: size, fill: "#fff" })) bg.setAttribute(k, v);
  // One path of unit squares: small, and crisp at any size.
  let d = "";
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(bg, path);
  return svg;
}

/** A one-time-code input: digits from an authenticator app, or a recovery code. */
function codeInput(id, recovery = false) {
  return h("input", { id, name: "code", required: true, autocomplete: "one-time-code", spellcheck: "false",
    inputmode: recovery ? undefined : "numeric", maxlength: "32" });
}

/** The recovery codes, shown this once, with a copy button; "Done" renders the page again. */
function recoveryCodes(codes) {
  const text = codes.join("\n");
  return h("section", { class: "card", "aria-labelledby": "recovery-title", id: "recovery" },
    h("h2", { id: "recovery-title" }, "Your recovery codes"),
    h("p", { class: "warning" }, "Two-factor sign-in is on. Keep these codes somewhere safe: each signs you in once if you lose your phone. This is the only time keygate shows them."),
    h("ul", { class: "codes", "aria-label": "Recovery codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: async () => {
        try { await navigator.clipboard.writeText(text); toast("Recovery codes copied."); } catch { toast("Select the codes and copy them."); }
      } }, "Copy codes"),
      h("button", { type: "button", class: "primary", onclick: () => route() }, "I have saved them")));
}

/** Enrolment: a new secret (as a QR code and as text), then a code from the app turns it on. */
function enrolment(area) {
  const start = h("button", { type: "button", class: "primary", onclick: async () => {
    start.disabled = true;
    try {
      const t = await api("POST", TOTP);
      const error = errorLine("totp-confirm-error");
      const form = h("form", { novalidate: true, "aria-labelledby": "totp-confirm-title" },
        h("h3", { id: "totp-confirm-title" }, "Confirm with a code"),
        field("Code from your app", codeInput("totp-code"), "The 6 digits your app shows now."),
        error,
        h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Turn on two-factor sign-in")));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        error.hidden = true;
        try {
          const done = await api("POST", `${TOTP}/confirm`, { code: form.elements.code.value.replace(/\s+/g, "") });
          session.me.totp = { ...(session.me.totp || {}), enabled: true };
          area.replaceChildren(recoveryCodes(done.recovery_codes));
        } catch (err) {
          showFormError(form, error, err);
        }
      });
      area.replaceChildren(
        h("p", {}, "Scan this QR code with an authenticator app (1Password, Google Authenticator, Authy…):"),
        qrSvg(t.otpauth_url, "QR code of your two-factor secret"),
        h("p", {}, "Or type the secret into the app: "),
        h("p", {}, h("code", { id: "totp-secret", class: "secret", "aria-label": "Two-factor secret" }, t.secret)),
        form);
      form.elements.code.focus();
    } catch (err) {
      start.disabled = false;
      area.append(h("p", { class: "error", role: "alert" }, err.message));
    }
  } }, "Set up two-factor sign-in");
  return start;
}

/** Turning it off takes a current code (or a recovery code). */
function disableForm() {
  const error = errorLine("totp-disable-error");
  const form = h("form", { class: "inline", novalidate: true, "aria-label": "Turn off two-factor sign-in" },
    field("Code to turn it off", codeInput("totp-disable-code", true), "A code from your app, or a recovery code."),
    h("button", { type: "submit", class: "danger" }, "Turn off two-factor sign-in"), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      await api("POST", `${TOTP}/disable`, { code: form.elements.code.value.replace(/\s+/g, "") });
      session.me.totp = { ...(session.me.totp || {}), enabled: false };
      toast("Two-factor sign-in is off.");
      route();
    } catch (err) {
      showFormError(form, error, err);
    }
  });
  return form;
}

/** An owner's switch: every member of the team must sign in with a code. */
function requireSwitch(me) {
  const box = h("input", { type: "checkbox", id: "require-totp", checked: Boolean(me.totp?.required) });
  const error = errorLine("require-totp-error");
  box.addEventListener("change", async () => {
    error.hidden = true;
    try {
      await api("PATCH", `/v1/teams/${me.team.id}`, { require_totp: box.checked });
      session.me.totp = { ...(me.totp || {}), required: box.checked };
      toast(box.checked ? "Every member now needs two-factor sign-in." : "Two-factor sign-in is optional again.");
    } catch (err) {
      box.checked = !box.checked;
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  return h("div", {},
    h("div", { class: "field check" }, box, h("label", { for: "require-totp" }, `Require two-factor sign-in for every member of ${me.team.name}`)),
    h("p", { class: "hint" }, "Members without it are asked to set it up at their next sign-in."),
    error);
}

/** A session's client in words, from its user agent. */
function client(ua) {
  if (!ua) return "Unknown client";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome"
    : /Safari\//.test(ua) ? "Safari" : null;
  const os = /Windows/.test(ua) ? "Windows" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS"
    : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : null;
  return browser || os ? [browser, os].filter(Boolean).join(" on ") : ua.slice(0, 60);
}

export async function securityPage() {
  const me = session.me;
  const totp = me.totp || { enabled: false, required: false };
  // A member who must enrol first may read only /v1/me and enrol (403 totp_enrolment_required).
  const enrolling = totp.required && !totp.enabled;
  const sessions = enrolling ? { data: [] } : await api("GET", "/v1/me/sessions");
  const area = h("div", { id: "totp-area" });
  if (totp.enabled) {
    area.append(h("p", { class: "ok", id: "totp-status" }, "Two-factor sign-in is on: signing in asks for a code from your app."), disableForm());
  } else {
    area.append(
      h("p", { id: "totp-status" }, "Two-factor sign-in is off. With it on, signing in also asks for a code from an app on your phone."),
      enrolment(area));
  }
  const rows = sessions.data.map((s) => {
    const what = `${client(s.user_agent)}${s.current ? " (this browser)" : ""}`;
    return [
      h("span", { title: s.user_agent || "" }, what),
      s.country || "—",
      when(s.created_at),
      when(s.last_seen_at),
      h("button", { type: "button", class: "small", "aria-label": `Sign out ${what}, signed in ${when(s.created_at)}`, onclick: async () => {
        await api("DELETE", `/v1/me/sessions/${s.id}`);
        if (s.current) return location.assign("/");
        toast(`${what} is signed out.`);
        route();
      } }, "Sign out"),
    ];
  });
  return [
    h("h1", {}, "Security"),
    enrolling
      ? h("p", { class: "alert", role: "alert", id: "totp-required" }, `${me.team.name} requires two-factor sign-in: set it up to go on.`)
      : null,
    h("section", { "aria-labelledby": "totp-title" },
      h("h2", { id: "totp-title" }, "Two-factor sign-in"),
      area,
      me.member.role === "owner" ? requireSwitch(me) : null),
    h("section", { "aria-labelledby": "sessions-title" },
      h("h2", { id: "sessions-title" }, "Where you are signed in"),
      enrolling
        ? h("p", { class: "hint" }, "Shown once two-factor sign-in is on.")
        : table("Sessions", ["Client", "Country", "Signed in", "Last seen", ""], rows, "No sessions.")),
  ];
}
