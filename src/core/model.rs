//! The service's records, and the JSON views clients see of them.
//!
//! Records are what storage holds; views are what responses carry. A key's view never holds its
//! hash or its plaintext: only [`CreatedKeyView`] carries the plaintext, once.

use super::ids::{KeyId, ProjectId, RoleId, ServiceAccountId, TeamId};
use super::key::Environment;
use super::permission::PermissionSet;
use super::ratelimit::RateLimitPolicy;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub created_at: Timestamp,
    /// Teams stored before limits existed have the defaults.
    #[serde(default)]
    pub limits: super::limits::TeamLimits,
    /// What a key of the team reported leaked becomes (`core::leaks`); teams stored before it
    /// existed have the default, `disable`.
    #[serde(default)]
    pub leak_policy: super::leaks::LeakPolicy,
    /// How the dashboard shows the team (`core::branding`); none stored: `{}`.
    #[serde(default)]
    pub branding: super::branding::Branding,
    /// Members must sign in with two factors (`core::totp`): one without is limited to
    /// enrolling. Shown only when on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_totp: bool,
    /// Keys unused this many whole days are disabled by their own alarms (`core::idle`);
    /// `None` (shown as `null`): off, the default.
    #[serde(default)]
    pub auto_disable_idle_days: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Disabled,
    Expired,
}

/// Everything known about a key except its counters. Its key object holds the authoritative
/// copy; its team object holds a copy for listings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub id: KeyId,
    pub team_id: TeamId,
    pub name: String,
    pub description: Option<String>,
    /// The first twelve characters of the key, for identification.
    pub prefix: String,
    pub environment: Environment,
    pub permissions: PermissionSet,
    /// Names of the service account's roles the permissions were taken from, at creation.
    pub roles: Vec<String>,
    pub rate_limit: RateLimitPolicy,
    pub project_id: Option<ProjectId>,
    pub service_account_id: Option<ServiceAccountId>,
    pub metadata: Option<Map<String, Value>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub disabled_at: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
    /// Renew itself when 30 days remain (`core::lifecycle`).
    #[serde(default)]
    pub auto_renew: bool,
    /// The key this one was rolled from.
    #[serde(default)]
    pub rolled_from: Option<KeyId>,
    /// When the current lifetime began, if not at creation: the last renewal.
    #[serde(default)]
    pub renewed_at: Option<Timestamp>,
    /// Reported leaked (`core::leaks`): when, where, by whom. Kept for the key's life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaked: Option<super::leaks::Leak>,
    /// Credits as last set (`core::credits`); the balance is in the key's counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<super::credits::CreditsSetting>,
    /// The IP allow-list, parsed (`core::ip_allow`); `None`: every address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<super::ip_allow::AllowList>,
}

impl KeyRecord {
    /// Whole days since the key was last used, or since it was made if never used.
    pub fn idle_days(&self, now: Timestamp) -> i64 {
        const DAY_MS: i64 = 86_400_000;
        let since = self.last_used.unwrap_or(self.created_at);
        (now.millis() - since.millis()).max(0) / DAY_MS
    }

    /// Disabled wins over expired: disabling is permanent, expiry can be extended.
    pub fn status(&self, now: Timestamp) -> KeyStatus {
        if self.disabled_at.is_some() {
            KeyStatus::Disabled
        } else if self.expires_at.is_some_and(|e| e <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    pub fn view(&self, now: Timestamp) -> KeyView<'_> {
        KeyView {
            id: &self.id,
            name: &self.name,
            description: self.description.as_deref(),
            prefix: &self.prefix,
            environment: self.environment,
            permissions: &self.permissions,
            roles: &self.roles,
            status: self.status(now),
            rate_limit: &self.rate_limit,
            project_id: self.project_id.as_deref(),
            service_account_id: self.service_account_id.as_deref(),
            metadata: self.metadata.as_ref(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            expires_at: self.expires_at,
            disabled_at: self.disabled_at,
            last_used: self.last_used,
            auto_renew: self.auto_renew,
            rolled_from: self.rolled_from.as_deref(),
            leaked: self.leaked.as_ref(),
            idle_days: self.idle_days(now),
            credits: self
                .credits
                .as_ref()
                .map(|c| super::credits::view(c, None, now)),
            allowed_ips: self.allowed_ips.as_ref().map(|l| l.entries()),
        }
    }

    /// The dates its schedule of notices and renewals depends on.
    pub fn dates(&self) -> super::lifecycle::Dates {
        super::lifecycle::Dates {
            expires_at: self.expires_at,
            lifetime_start: self.renewed_at.unwrap_or(self.created_at),
            auto_renew: self.auto_renew,
            disabled: self.disabled_at.is_some(),
        }
    }
}

/// The public `Key` object of the contract.
#[derive(Serialize)]
pub struct KeyView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub prefix: &'a str,
    pub environment: Environment,
    pub permissions: &'a PermissionSet,
    pub roles: &'a [String],
    pub status: KeyStatus,
    pub rate_limit: &'a RateLimitPolicy,
    pub project_id: Option<&'a str>,
    pub service_account_id: Option<&'a str>,
    pub metadata: Option<&'a Map<String, Value>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub disabled_at: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
    pub auto_renew: bool,
    pub rolled_from: Option<&'a str>,
    /// Present once the key was reported leaked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaked: Option<&'a super::leaks::Leak>,
    /// Whole days since last use, or since creation if never used.
    pub idle_days: i64,
    /// For a key with credits: what remains (the key's own object answers it live; a listing
    /// shows it as of the key's last change) and its refill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits: Option<super::credits::CreditsView>,
    /// The IP allow-list in canonical text (`203.0.113.0/24`, `198.51.100.7/32`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<Vec<String>>,
}

/// `Key` plus the full key: the only view that ever carries the secret.
#[derive(Serialize)]
pub struct CreatedKeyView<'a> {
    #[serde(flatten)]
    pub view: KeyView<'a>,
    /// The full key, in clear.
    pub key: &'a str,
}

/// Admitted requests of a key, by UTC calendar day and month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    pub requests_today: u64,
    pub requests_this_month: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub permissions: PermissionSet,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A service account as stored: its roles are kept apart, by id, so renaming a role follows
/// through; they are resolved to names when it is read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub id: ServiceAccountId,
    pub name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl AccountRecord {
    pub fn of(a: &ServiceAccount) -> Self {
        AccountRecord {
            id: a.id.clone(),
            name: a.name.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }

    /// The account with its roles' names.
    pub fn view(self, roles: Vec<String>) -> ServiceAccount {
        ServiceAccount {
            id: self.id,
            name: self.name,
            roles,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub id: ServiceAccountId,
    pub name: String,
    /// Role names.
    pub roles: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A plain live key record for tests: no permissions, plan `free`, made at `now`.
#[cfg(test)]
pub fn sample_record(id: &str, now: Timestamp) -> KeyRecord {
    KeyRecord {
        id: id.into(),
        team_id: "team_1".into(),
        name: "k".into(),
        description: None,
        prefix: "sk_live_abcd".into(),
        environment: Environment::Live,
        permissions: PermissionSet::default(),
        roles: vec![],
        rate_limit: RateLimitPolicy::free(),
        project_id: None,
        service_account_id: None,
        metadata: None,
        created_at: now,
        updated_at: now,
        expires_at: None,
        disabled_at: None,
        last_used: None,
        auto_renew: false,
        rolled_from: None,
        renewed_at: None,
        leaked: None,
        credits: None,
        allowed_ips: None,
    }
}
