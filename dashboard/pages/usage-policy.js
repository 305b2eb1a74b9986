// A key's usage policy (issue 21) in the create and edit forms and on the key's page: the monthly
// quota (`rate_limit.per_month`), credits with their refill, and the IP allow-list (a textarea,
// one entry per line; an error, the browser's or the API's, shows next to the field naming the
// line).
import { h, field } from "/ui.js";

const num = (s) => (s.trim() === "" ? null : Number(s));
const count = (n) => Number(n).toLocaleString("en-US");

/** The fields, for a new key (`k` absent) or prefilled from `k` (the edit form). */
export function policyFields(k = null) {
  const c = k?.credits;
  const interval = h("select", { name: "refill_interval" },
    h("option", { value: "" }, "No refill"),
    ["daily", "monthly"].map((i) => h("option", { value: i, selected: c?.refill?.interval === i }, i === "daily" ? "Daily (UTC)" : "Monthly (UTC)")));
  return h("fieldset", { class: "usage-policy" }, h("legend", {}, "Usage policy"),
    field("Monthly quota", h("input", { name: "per_month", type: "number", min: "1", inputmode: "numeric", value: k?.rate_limit.per_month ?? "" }),
      k ? "Admitted requests per UTC calendar month." : "Admitted requests per UTC calendar month. Empty: the plan's (free 10,000; pro 1,000,000; enterprise none)."),
    field("Credits remaining", h("input", { name: "credits_remaining", type: "number", min: "0", inputmode: "numeric", value: c ? c.remaining : "" }),
      k && c ? "Each verification spends its cost. Empty: remove the credits (no limit)." : "Optional: each verification spends its cost (default 1). Empty: no credits, no limit."),
    field("Refill to", h("input", { name: "refill_amount", type: "number", min: "1", inputmode: "numeric", value: c?.refill?.amount ?? "" }),
      "Sets the remaining credits to this at the start of each period."),
    field("Refill", interval),
    field("Allowed IPs", h("textarea", { name: "allowed_ips", rows: "3", spellcheck: "false", placeholder: "203.0.113.0/24\n2001:db8::/32",
      "data-initial": (k?.allowed_ips || []).join("\n") }, (k?.allowed_ips || []).join("\n")),
      "One IPv4 or IPv6 address or CIDR per line (up to 100). Empty: any address."));
}

// The allow-list's lines that hold an entry, with their line numbers (from 1).
function ipLines(text) {
  return text.split("\n").map((l, i) => [i + 1, l.trim()]).filter(([, l]) => l);
}

// Obvious syntax only (the API checks the rest and names the entry): digits, hex, dots, colons
// and one `/prefix`.
const looksLikeIp = (s) => /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-f:.]*:[0-9a-f:.]*)(?:\/[0-9]{1,3})?$/i.test(s);

/** An error for one line of the allow-list, next to the textarea (and that line selected). */
export class IpLineError extends Error {
  constructor(line, entry, message) {
    super(`Line ${line} (${entry}): ${message}`);
    this.line = line;
  }
}

/**
 * The policy's part of a create body (`edit` absent) or of a `PATCH` (only what changed from
 * `edit`, the key as loaded). Throws `IpLineError` for a line that is plainly no address, and
 * an error naming `refill_amount` for a refill with no amount or no period.
 */
export function readPolicy(f, edit = null) {
  const body = {};
  const perMonth = num(f.per_month.value);
  if (perMonth !== null && perMonth !== edit?.rate_limit.per_month) body.rate_limit = { per_month: perMonth };
  const remaining = num(f.credits_remaining.value);
  const amount = num(f.refill_amount.value);
  const interval = f.refill_interval.value;
  if ((amount !== null) !== Boolean(interval)) {
    throw new Error("`refill_amount` and the refill's period go together: give both, or neither.");
  }
  const credits = remaining === null ? null
    : { remaining, ...(amount !== null && interval ? { refill: { amount, interval } } : {}) };
  const was = edit?.credits;
  const same = was && credits && credits.remaining === was.remaining
    && credits.refill?.amount === was.refill?.amount && credits.refill?.interval === was.refill?.interval;
  if (edit ? !same && (credits || was) : credits) body.credits = credits;
  const lines = ipLines(f.allowed_ips.value);
  for (const [n, l] of lines) if (!looksLikeIp(l)) throw new IpLineError(n, l, "not an IP address or CIDR (like 203.0.113.0/24).");
  const ips = lines.map(([, l]) => l);
  if (edit ? f.allowed_ips.value.trim() !== f.allowed_ips.dataset.initial.trim() : ips.length) body.allowed_ips = ips;
  return body;
}

// The API's names for the policy's fields (`credits.remaining` …) and the form's.
const API_FIELDS = { "rate_limit.per_month": "per_month", "credits.remaining": "credits_remaining",
  "credits.refill.amount": "refill_amount", "credits.refill.interval": "refill_interval" };

function showNextTo(input, message) {
  const p = h("p", { class: "error field-error", id: `${input.id}-error`, role: "alert" }, message);
  input.setAttribute("aria-invalid", "true");
  input.dataset.describedBy = input.getAttribute("aria-describedby") || "";
  input.setAttribute("aria-describedby", `${input.dataset.describedBy} ${p.id}`.trim());
  input.closest(".field").append(p);
  input.focus();
}

/**
 * Shows `e` next to the policy's field it is about: a line of the allow-list (a client-side
 * `IpLineError`, or the API's "`allowed_ips[i]` …", the i-th entry sent, told by its line), or
 * the API's "`credits.remaining` …" and the like. `false` when it is about something else.
 */
export function showPolicyError(form, e) {
  const named = /^`([a-z_.]+)`/.exec(e.message || "")?.[1];
  if (named && API_FIELDS[named]) {
    showNextTo(form.elements[API_FIELDS[named]], e.message);
    return true;
  }
  const textarea = form.elements.allowed_ips;
  let line = e instanceof IpLineError ? e.line : null;
  let message = e.message;
  const api = /^`allowed_ips\[(\d+)\]`\s*(.*)$/s.exec(e.message || "");
  if (api) {
    const entry = ipLines(textarea.value)[Number(api[1])];
    if (!entry) return false;
    [line] = entry;
    message = `Line ${line} (${entry[1]}): ${api[2]}`;
  }
  if (line === null) return false;
  showNextTo(textarea, message);
  // Select the line, so the cursor is on it.
  const starts = textarea.value.split("\n").slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  textarea.setSelectionRange(starts, starts + textarea.value.split("\n")[line - 1].length);
  return true;
}

/** The key page's rows: quota use this month, credits, idle days, allowed IPs. */
export function policyRows(k) {
  const q = k.rate_limit.per_month;
  const used = k.usage?.requests_this_month ?? 0;
  const refill = k.credits?.refill;
  return [
    ["Monthly quota", h("span", { id: "key-quota" }, q ? `${count(used)} of ${count(q)} used this month (UTC)` : "none")],
    ["Credits", h("span", { id: "key-credits" }, k.credits
      ? `${count(k.credits.remaining)} remaining${refill ? `, refilled to ${count(refill.amount)} ${refill.interval === "daily" ? "each day" : "each month"}` : ", no refill"}`
      : "none (no limit)")],
    ["Idle", h("span", { id: "key-idle" }, k.idle_days === 1 ? "1 day" : `${k.idle_days} days`)],
    ["Allowed IPs", k.allowed_ips?.length
      ? h("ul", { id: "key-allowed-ips", class: "plain" }, k.allowed_ips.map((ip) => h("li", {}, h("code", {}, ip))))
      : h("span", { id: "key-allowed-ips" }, "any address")],
  ];
}
