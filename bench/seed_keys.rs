//! Makes keys for the verification benchmark at scale (bench/scale.sh), natively, with the
//! worker's own types: prints one JSON line per key with the plain key (for the sample), the key
//! object's name, the `Create` call that object receives when the API issues a key, and the KV
//! index entry. `bench/scale.mjs` delivers them to the key objects and the index in workerd, so
//! 100,000 keys take a minute instead of the quarter hour that 100,000 API creates would.
//! (Bench-made keys have no row in their team's listing: verification never reads it.)
//!
//!   cargo run --release --example seed_keys -- TEAM_ID COUNT [KEY_PREFIX]

use keygate::core::config::KeyPrefix;
use keygate::core::ids::{KeyId, TeamId};
use keygate::core::key::{Environment, PlainKey};
use keygate::core::key_state::KeyState;
use keygate::core::model::KeyRecord;
use keygate::core::permission::{Permission, PermissionSet};
use keygate::core::random::OsRandom;
use keygate::core::ratelimit::{Plan, RateLimitPolicy, MAX_LIMIT};
use keygate::core::time::Timestamp;
use keygate::storage::index::{index_name, IndexEntry};
use keygate::storage::key_protocol::KeyCall;
use std::io::{BufWriter, Write};
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(team), Some(count)) = (args.first(), args.get(1)) else {
        eprintln!("usage: seed_keys TEAM_ID COUNT [KEY_PREFIX]");
        std::process::exit(2);
    };
    let team_id = TeamId::parse(team).expect("a team id (team_…)");
    let count: usize = count.parse().expect("a count");
    let prefix = KeyPrefix::parse(args.get(2).map_or("sk", String::as_str)).expect("a key prefix");
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let now = Timestamp::from_millis(millis as i64);
    let policy = RateLimitPolicy::build(Plan::Enterprise, Some(MAX_LIMIT), Some(MAX_LIMIT))
        .expect("in range");
    let permissions = PermissionSet::new([Permission::new_static("tasks:read")]);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for n in 0..count {
        let plain = PlainKey::generate(&prefix, Environment::Live, &mut OsRandom);
        let record = KeyRecord {
            id: KeyId::generate(&mut OsRandom),
            team_id: team_id.clone(),
            name: format!("scale key {n}"),
            description: None,
            prefix: plain.display_prefix().to_owned(),
            environment: Environment::Live,
            permissions: permissions.clone(),
            roles: Vec::new(),
            rate_limit: policy,
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
        };
        let entry = IndexEntry {
            key_id: record.id.clone(),
            team_id: team_id.clone(),
        };
        let line = serde_json::json!({
            "key": plain.expose_secret(),
            "object": record.id,
            "index": index_name(&plain.hash()),
            "entry": entry.encode(),
            "create": serde_json::to_string(&KeyCall::Create {
                state: Box::new(KeyState::new(record, plain.hash())),
            })
            .expect("serializable"),
        });
        writeln!(out, "{line}").expect("stdout");
    }
}
