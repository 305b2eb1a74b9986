// Webhook endpoints (#/webhooks) and one endpoint with its deliveries (#/webhooks/<id>).
import { api, all } from "/api.js";
import { h, can, day, when, field, table, toast, errorLine, showFormError, clearFormErrors, confirmAction, showSecret, route } from "/ui.js";

export const EVENTS = ["api_key.created", "api_key.updated", "api_key.rolled", "api_key.disabled", "api_key.deleted",
  "api_key.expiring", "api_key.expired", "api_key.renewed", "api_key.rate_limited", "api_key.new_location", "api_key.leaked",
  "api_key.quota_exceeded", "api_key.credits_low", "api_key.blocked_ip", "api_key.idle",
  "member.added", "member.removed"];

const hookStatus = (w) => (w.enabled ? "enabled" : w.disabled_reason ? `disabled (${w.disabled_reason === "gone" ? "it answered 410 Gone" : "failing for 5 days"})` : "disabled");

export async function webhooksPage() {
  const hooks = await all("/v1/webhooks");
  const write = can("webhooks:write");
  const error = errorLine("webhook-error");
  const all_ = h("input", { type: "checkbox", name: "all", id: "events-all", checked: true });
  const boxes = EVENTS.map((e) => h("label", { class: "event" }, h("input", { type: "checkbox", name: "events", value: e }), ` ${e}`));
  const list = h("div", { class: "events", hidden: true }, boxes);
  all_.addEventListener("change", () => (list.hidden = all_.checked));
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "new-hook-title" },
    h("h2", { id: "new-hook-title" }, "Add an endpoint"),
    field("URL", h("input", { name: "url", type: "url", required: true, placeholder: "https://hooks.example.com/keygate", spellcheck: "false" }),
      "https:// and a public host. keygate POSTs each event there, signed."),
    h("fieldset", {}, h("legend", {}, "Events"),
      h("div", { class: "field check" }, all_, h("label", { for: "events-all" }, "All events")), list),
    field("Description", h("input", { name: "description", maxlength: "500", autocomplete: "off" })),
    error,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Add endpoint")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    clearFormErrors(form);
    const events = all_.checked ? ["*"] : boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const body = { url: form.elements.url.value.trim(), events };
    if (form.elements.description.value.trim()) body.description = form.elements.description.value.trim();
    try {
      const created = await api("POST", "/v1/webhooks", body);
      showSecret(created.secret, { title: "Copy the signing secret", label: "Signing secret", what: "secret" });
      route();
    } catch (err) {
      showFormError(form, error, err);
    }
  });
  return [
    h("h1", {}, "Webhooks"),
    table("Webhooks", ["Endpoint", "Events", "Status", "Created"], hooks.map((w) => [
      h("a", { href: `#/webhooks/${w.id}` }, w.url), w.events.join(", "), hookStatus(w), day(w.created_at),
    ]), "No endpoints yet: add one to hear about keys expiring, renewing, being disabled and more."),
    write ? form : null,
  ];
}

export async function webhookPage(id) {
  const [w, deliveries] = await Promise.all([
    api("GET", `/v1/webhooks/${id}`),
    api("GET", `/v1/webhooks/${id}/deliveries?limit=50`),
  ]);
  const write = can("webhooks:write");
  const info = h("dl", { class: "details" },
    [["ID", h("code", {}, w.id)], ["URL", h("code", {}, w.url)], ["Events", w.events.join(", ")],
      ["Status", hookStatus(w)], ["Description", w.description || "—"], ["Created", when(w.created_at)]]
      .flatMap(([t, d]) => [h("dt", {}, t), h("dd", {}, d)]));
  const result = (d) => (d.status !== null ? String(d.status) : d.error || "no answer");
  const log = h("section", { "aria-labelledby": "deliveries-title" },
    h("h2", { id: "deliveries-title" }, "Recent deliveries"),
    h("button", { type: "button", onclick: () => route() }, "Refresh"),
    table("Deliveries", ["Time", "Event", "Attempt", "Result", "Duration", ""], deliveries.data.map((d) => [
      when(d.at), h("span", {}, d.type, " ", h("code", {}, d.event_id)), String(d.attempt),
      h("span", { class: d.status >= 200 && d.status < 300 ? "ok" : "error" }, result(d)), `${d.duration_ms} ms`,
      write ? h("button", { type: "button", class: "small", "aria-label": `Send ${d.event_id} again`, onclick: async () => {
        await api("POST", `/v1/webhooks/${w.id}/deliveries/${d.event_id}/retry`);
        toast("Sent again.");
        setTimeout(route, 1500);
      } }, "Retry") : "",
    ]), "Nothing delivered yet. Send a test event to check the endpoint."));
  const actions = write
    ? h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: async () => {
          await api("POST", `/v1/webhooks/${w.id}/test`);
          toast("Test event sent.");
          setTimeout(route, 1500);
        } }, "Send test event"),
        h("button", { type: "button", onclick: async () => {
          await api("PATCH", `/v1/webhooks/${w.id}`, { enabled: !w.enabled });
          toast(w.enabled ? "Disabled." : "Enabled.");
          route();
        } }, w.enabled ? "Disable" : "Enable"),
        h("button", { type: "button", onclick: () => confirmAction({
          title: "Rotate the signing secret?",
          text: "A new secret is shown once. For 24 hours deliveries carry both signatures, so your receiver can switch without missing one.",
          ok: "Rotate secret",
          action: async () => {
            const r = await api("POST", `/v1/webhooks/${w.id}/rotate-secret`);
            showSecret(r.secret, { title: "Copy the new signing secret", label: "Signing secret", what: "secret" });
          },
        }) }, "Rotate secret"),
        h("button", { type: "button", class: "danger", onclick: () => confirmAction({
          title: "Delete this endpoint?", text: "Nothing more is sent to it, and its delivery log goes with it.", ok: "Delete endpoint",
          action: async () => {
            await api("DELETE", `/v1/webhooks/${w.id}`);
            location.hash = "#/webhooks";
          },
        }) }, "Delete"))
    : null;
  return [h("p", {}, h("a", { href: "#/webhooks" }, "← Webhooks")), h("h1", {}, "Webhook endpoint"), info, actions, log];
}
