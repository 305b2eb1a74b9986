// Monitoring (#/monitoring): the team's last 24 hours.
import { api } from "/api.js";
import { h, when, table } from "/ui.js";

// What each refusal code means (codes not listed show as they are).
const REASONS = {
  invalid_key: "unknown or malformed key", disabled_key: "key disabled", expired_key: "key expired",
  insufficient_permissions: "missing a permission", project_mismatch: "another project's key",
  ip_not_allowed: "address not in the key's allowed IPs", quota_exceeded: "monthly quota used up",
  usage_exceeded: "not enough credits left",
};

export async function monitoringPage() {
  const m = await api("GET", "/v1/monitoring");
  const stat = (label, value) => [h("dt", {}, label), h("dd", {}, String(value))];
  return [
    h("h1", {}, "Monitoring"),
    h("p", { class: "hint" }, `The last 24 hours (since ${when(m.since)}); keys report at most once a minute.`),
    h("dl", { class: "stats" },
      stat("Requests", m.requests), stat("Admitted", m.admitted), stat("Rate limited", m.rate_limited),
      stat("Keys expiring within 30 days", m.keys_expiring_30d)),
    h("h2", {}, "Refused, by reason"),
    table("Refusals by reason", ["Reason", "Requests"], Object.entries(m.denied_by_reason).map(([r, n]) => [[h("code", {}, r), REASONS[r] ? ` — ${REASONS[r]}` : ""], String(n)]), "No refusals."),
    h("h2", {}, "Busiest keys"),
    table("Busiest keys", ["Key", "Requests"], m.top_keys.map((k) => [h("a", { href: `#/keys/${k.key_id}` }, k.name), String(k.requests)]), "No requests yet."),
  ];
}
