// Monitoring (#/monitoring): the team's last 24 hours.
import { api } from "/api.js";
import { h, when, table } from "/ui.js";

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
    table("Refusals by reason", ["Reason", "Requests"], Object.entries(m.denied_by_reason).map(([r, n]) => [h("code", {}, r), String(n)]), "No refusals."),
    h("h2", {}, "Busiest keys"),
    table("Busiest keys", ["Key", "Requests"], m.top_keys.map((k) => [h("a", { href: `#/keys/${k.key_id}` }, k.name), String(k.requests)]), "No requests yet."),
  ];
}
