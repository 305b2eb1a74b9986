//! What a check records and raises beside its answer: the usage history, the monitoring tally,
//! credits spent, and the once-per-window alerts (`api_key.rate_limited`, `quota_exceeded`,
//! `credits_low`, `blocked_ip`) held with the change for the object to hand over.

use super::audit::{key_entry, Actor as AuditActor, ActorKind, Origin};
use super::credits::Balance;
use super::events::key_event;
use super::history;
use super::key_state::KeyState;
use super::model::KeyRecord;
use super::monitoring::Counted;
use super::ratelimit::LimitState;
use super::time::Timestamp;
use serde_json::json;

impl KeyState {
    /// Counts a request in the history; a new day marks the earlier days for writing.
    pub(super) fn record_history(&mut self, outcome: history::Outcome, now: Timestamp) {
        let before = self.history.days.last().map(|d| d.day);
        self.history.record(outcome, now);
        if before.is_some_and(|b| b != now.utc_day()) {
            self.history_rolled = true;
        }
    }

    /// Tallies a counted request for the team's monitoring; what is due to be reported goes to
    /// `self.reports`.
    pub(super) fn tally(&mut self, outcome: Counted, now: Timestamp) {
        if let Some(closed) = self.report.record(outcome, now) {
            self.reports.push(closed);
        }
        if let Some(due) = self.report.take(now, false) {
            self.reports.push(due);
        }
    }

    /// `api_key.rate_limited`, at most once per window (the one refusing: its reset time).
    pub(super) fn raise_rate_limited(&mut self, limit: &LimitState, now: Timestamp) {
        let window = limit.binding();
        if !history::raise_rate_limited(self.rate_limited_window, window.reset) {
            return;
        }
        self.rate_limited_window = Some(window.reset);
        let extra = [
            (
                "window",
                serde_json::to_value(window.name).unwrap_or_default(),
            ),
            ("limit", window.limit.into()),
            ("reset", window.reset.into()),
        ];
        let seed = format!("rate_limited:{}", window.reset);
        let e = key_event("api_key.rate_limited", &self.record, &extra, &seed, now);
        self.alerts.push(e);
        let changes = json!({"window": window.name, "limit": window.limit, "reset": window.reset});
        self.audit_alert("api_key.rate_limited", changes, &seed, now);
    }

    /// Spends `cost` credits of a key that has them (refilled first if a new period started);
    /// `Err`: too few, nothing spent. Falling below 10 % of the grant raises
    /// `api_key.credits_low`, once per grant.
    pub(super) fn spend_credits(
        &mut self,
        cost: u32,
        now: Timestamp,
    ) -> Result<(), super::credits::TooFew> {
        let Some(setting) = self.record.credits else {
            return Ok(());
        };
        let mut balance = Balance::current(&setting, self.credits, now);
        let spent = balance.spend(cost);
        self.credits = Some(balance);
        if spent? {
            let extra = [
                ("remaining", balance.remaining.into()),
                ("grant", balance.grant.into()),
            ];
            let seed = format!("credits_low:{}:{}", setting.set_at.millis(), balance.period);
            let e = key_event("api_key.credits_low", &self.record, &extra, &seed, now);
            self.alerts.push(e);
            let changes = json!({"remaining": balance.remaining, "grant": balance.grant});
            self.audit_alert("api_key.credits_low", changes, &seed, now);
        }
        Ok(())
    }

    /// The record as the key's own answers show it: credits with the live balance.
    pub fn record_for_view(&self, now: Timestamp) -> KeyRecord {
        let mut record = self.record.clone();
        if let Some(c) = record.credits.as_mut() {
            let balance = Balance::current(c, self.credits, now);
            c.remaining = balance.remaining;
        }
        record
    }

    /// `api_key.quota_exceeded`, once per key and UTC month (`core::history`).
    pub(super) fn raise_quota_exceeded(&mut self, limit: &LimitState, now: Timestamp) {
        let Some(month) = limit.month else { return };
        if !history::raise_once(self.quota_exceeded_month, now.utc_month()) {
            return;
        }
        self.quota_exceeded_month = Some(now.utc_month());
        let extra = [("limit", month.limit.into()), ("reset", month.reset.into())];
        let seed = format!("quota_exceeded:{}", now.utc_month());
        let e = key_event("api_key.quota_exceeded", &self.record, &extra, &seed, now);
        self.alerts.push(e);
        let changes = json!({"limit": month.limit, "reset": month.reset});
        self.audit_alert("api_key.quota_exceeded", changes, &seed, now);
    }

    /// `api_key.blocked_ip`, with the address refused: at most once an hour per key.
    pub(super) fn raise_blocked_ip(&mut self, ip: Option<std::net::IpAddr>, now: Timestamp) {
        const HOUR_MS: i64 = 3_600_000;
        if self
            .blocked_ip_at
            .is_some_and(|t| now.millis() - t < HOUR_MS)
        {
            return;
        }
        self.blocked_ip_at = Some(now.millis());
        let ip = ip.map(|a| a.to_string());
        let extra = [("ip", ip.clone().into())];
        let seed = format!("blocked_ip:{}", now.millis());
        let e = key_event("api_key.blocked_ip", &self.record, &extra, &seed, now);
        self.alerts.push(e);
        self.audit_alert("api_key.blocked_ip", json!({ "ip": ip }), &seed, now);
    }

    /// An alert goes into the audit log too, by keygate itself (`system`), whether or not a
    /// webhook wants it.
    pub(super) fn audit_alert(
        &mut self,
        action: &str,
        changes: serde_json::Value,
        seed: &str,
        now: Timestamp,
    ) {
        let origin = Origin::new(
            AuditActor {
                kind: ActorKind::System,
                id: None,
            },
            None,
            None,
            None,
        );
        let entry = key_entry(action, &self.record, &origin, Some(changes), seed, now);
        self.alerts.push(entry);
    }
}
