//! `POST /v1/leaks/github` (GitHub's secret scanning partner endpoint) and `POST /v1/leaks` (a
//! team's own scanner): reports of keys found in public. Thin: the rules are `core::leaks`.
//!
//! GitHub's request is accepted only with a valid `Github-Public-Key-Signature` (ECDSA P-256 /
//! SHA-256 over the raw body) by the key `Github-Public-Key-Identifier` names, verified by
//! WebCrypto; the keys are the setting `GITHUB_SCANNING_KEYS` when set, else GitHub's published
//! ones, fetched and kept per isolate (for an hour; fetched again on an unknown identifier, at
//! most once a minute). Anything else is `401` and the body is not parsed.
//!
//! Each token: format and checksum (no lookup for a bad one), then one bulk KV read per 100
//! tokens (unknown tokens touch no Durable Object), then, per known key, its team's policy (one
//! team-object read per team) and one call to its key object, which decides once.

use super::auth::{confirm, needs, present};
use super::ctx::{declared_within, internal, json, read_body_within, ApiResult, Ctx};
use super::problem::ApiError;
use crate::core::ids::{ProjectId, TeamId};
use crate::core::key::KeyHash;
use crate::core::leaks::github::{self, Lookup, PublicKey};
use crate::core::leaks::{self, LeakPolicy, Reported, Reporter, KV_BULK_READ, MAX_REPORT_BYTES};
use crate::core::permission::needs as perm;
use crate::storage::index::{index_name, IndexEntry};
use crate::storage::key_protocol::{KeyCall, KeyReply};
use crate::storage::service;
use crate::storage::team_protocol::GetTeam;
use crate::storage::Backend;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::js_sys::{Array, Map, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, Fetch, Headers, Method, Request, RequestInit};

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_spki(
        format: &str,
        key: &Uint8Array,
        algorithm: &Object,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = verify, catch)]
    fn subtle_verify(
        algorithm: &Object,
        key: &JsValue,
        signature: &Uint8Array,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;

    /// The KV binding, for its bulk read (`get([names])` → `Map`), which workers-rs lacks.
    type KvBulk;

    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_many(this: &KvBulk, names: &Array) -> Result<Promise, JsValue>;
}

thread_local! {
    /// GitHub's keys as this isolate last fetched them (trusted for an hour).
    static GITHUB_KEYS: RefCell<github::KeyCache> = RefCell::new(github::KeyCache::default());
}

fn too_large() -> ApiError {
    let mut e = ApiError::payload_too_large();
    e.detail = format!("a leak report must be at most {MAX_REPORT_BYTES} bytes");
    e
}

fn bad_signature(detail: &str) -> ApiError {
    ApiError {
        status: 401,
        code: "invalid_signature",
        title: "Invalid signature",
        detail: detail.to_owned(),
        headers: Vec::new(),
    }
}

fn bad_report(e: leaks::ReportError) -> ApiError {
    ApiError {
        status: 400,
        code: "invalid_report",
        title: "Invalid report",
        detail: e.to_string(),
        headers: Vec::new(),
    }
}

/// `POST /v1/leaks/github`.
pub async fn github(ctx: &Ctx, req: &mut Request) -> ApiResult {
    // The signature covers the body, so the body is read only after the length a request
    // declares, its signature headers and the key they name have passed: an outsider's
    // request costs no read.
    declared_within(req, MAX_REPORT_BYTES, too_large)?;
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let (Some(key_id), Some(signature)) = (
        header("Github-Public-Key-Identifier"),
        header("Github-Public-Key-Signature"),
    ) else {
        return Err(bad_signature(
            "the request must be signed (Github-Public-Key-Identifier, Github-Public-Key-Signature)",
        ));
    };
    let key = github_key(ctx, &key_id)
        .await?
        .ok_or_else(|| bad_signature("the signing key is not one of GitHub's"))?;
    let body = read_body_within(req, MAX_REPORT_BYTES, too_large).await?;
    if !signed_by(&key, &signature, body.raw()).await? {
        return Err(bad_signature("the signature does not match the body"));
    }
    let report = leaks::parse_report(body.json()?).map_err(bad_report)?;
    answer(ctx, &report, None, None, Reporter::Github).await
}

/// `POST /v1/leaks`: the same report from the team's own tools; only its own keys are touched.
/// (The caller shows each key's full secret: reporting it leaked grants nothing it does not
/// already hold.)
pub async fn report(ctx: &Ctx, req: &mut Request) -> ApiResult {
    // The credential first: a caller without one gets its `401` before a byte is read.
    let p = present(ctx, req).await?;
    let caller = confirm(ctx, &p, needs(&[perm::API_KEYS_WRITE])).await?;
    let body = read_body_within(req, MAX_REPORT_BYTES, too_large).await?;
    let report = leaks::parse_report(body.json()?).map_err(bad_report)?;
    let within = caller.manager.project_id.as_ref();
    answer(ctx, &report, Some(&caller.team_id), within, Reporter::Team).await
}

/// The key `id` names: from `GITHUB_SCANNING_KEYS` when set, else from GitHub's published keys
/// (fetched again for an unknown id, at most once a minute per isolate).
async fn github_key(ctx: &Ctx, id: &str) -> Result<Option<PublicKey>, ApiError> {
    let pinned = ctx
        .env
        .secret("GITHUB_SCANNING_KEYS")
        .map(|s| s.to_string())
        .or_else(|_| ctx.env.var("GITHUB_SCANNING_KEYS").map(|v| v.to_string()))
        .ok()
        .filter(|s| !s.is_empty());
    if let Some(text) = pinned {
        let keys = github::parse_public_keys(&text).ok_or_else(|| {
            ApiError::misconfigured("GITHUB_SCANNING_KEYS is not GitHub's public keys document")
        })?;
        return Ok(github::find(&keys, id).cloned());
    }
    let now = ctx.now.millis();
    match GITHUB_KEYS.with(|c| c.borrow().lookup(id, now)) {
        Lookup::Known(key) => return Ok(Some(key)),
        Lookup::Unknown => return Ok(None),
        Lookup::Fetch => {}
    }
    let fetched = fetch_github_keys().await;
    GITHUB_KEYS.with(|c| c.borrow_mut().fetched(fetched.as_ref().ok().cloned(), now));
    let keys = fetched?;
    Ok(github::find(&keys, id).cloned())
}

async fn fetch_github_keys() -> Result<Vec<PublicKey>, ApiError> {
    let fail = |e: String| internal("fetching GitHub's secret scanning keys", e);
    let headers = Headers::new();
    for (k, v) in [("User-Agent", "keygate"), ("Accept", "application/json")] {
        headers.set(k, v).map_err(|e| fail(e.to_string()))?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req =
        Request::new_with_init(github::GITHUB_KEYS_URL, &init).map_err(|e| fail(e.to_string()))?;
    let mut resp = Fetch::Request(req)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if resp.status_code() != 200 {
        return Err(fail(format!("status {}", resp.status_code())));
    }
    let text = resp.text().await.map_err(|e| fail(e.to_string()))?;
    github::parse_public_keys(&text).ok_or_else(|| fail("not a keys document".into()))
}

/// WebCrypto: is `signature` (base64 DER) an ECDSA P-256 / SHA-256 signature of `body` by `key`?
async fn signed_by(key: &PublicKey, signature: &str, body: &[u8]) -> Result<bool, ApiError> {
    let Some(raw) = github::der_signature_to_raw(signature) else {
        return Ok(false);
    };
    let fail = |e: JsValue| internal("verifying GitHub's signature", format!("{e:?}"));
    let object = |pairs: &[(&str, &str)]| -> Result<Object, ApiError> {
        let o = Object::new();
        for (k, v) in pairs {
            Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v)).map_err(fail)?;
        }
        Ok(o)
    };
    let import = object(&[("name", "ECDSA"), ("namedCurve", "P-256")])?;
    let usages = Array::of1(&JsValue::from_str("verify"));
    let spki = Uint8Array::from(&key.spki[..]);
    let imported = match import_spki("spki", &spki, &import, false, &usages) {
        Ok(p) => JsFuture::from(p).await,
        Err(e) => Err(e),
    };
    let Ok(crypto_key) = imported else {
        // A pinned or published key WebCrypto cannot read verifies nothing.
        console_error!("a GitHub secret scanning key is not a P-256 SPKI key");
        return Ok(false);
    };
    let algorithm = object(&[("name", "ECDSA"), ("hash", "SHA-256")])?;
    let (sig, data) = (Uint8Array::from(&raw[..]), Uint8Array::from(body));
    let verified = subtle_verify(&algorithm, &crypto_key, &sig, &data).map_err(fail)?;
    Ok(JsFuture::from(verified).await.map_err(fail)?.as_bool() == Some(true))
}

/// Index entries of `hashes` (distinct), by bulk reads of [`KV_BULK_READ`].
async fn index_entries(
    ctx: &Ctx,
    hashes: &[KeyHash],
) -> Result<HashMap<KeyHash, IndexEntry>, ApiError> {
    let fail = |e: JsValue| internal("reading the index in bulk", format!("{e:?}"));
    let kv: KvBulk = Reflect::get(&ctx.env, &JsValue::from_str(crate::storage::KV_BINDING))
        .map_err(fail)?
        .unchecked_into();
    let mut found = HashMap::new();
    for chunk in hashes.chunks(KV_BULK_READ) {
        let names: Array = chunk
            .iter()
            .map(|h| JsValue::from_str(&index_name(h)))
            .collect();
        let map: Map = JsFuture::from(kv.get_many(&names).map_err(fail)?)
            .await
            .map_err(fail)?
            .unchecked_into();
        for h in chunk {
            let text = map.get(&JsValue::from_str(&index_name(h))).as_string();
            if let Some(e) = text.as_deref().and_then(IndexEntry::decode) {
                found.insert(*h, e);
            }
        }
    }
    Ok(found)
}

/// Handles every token of a report and answers the feedback array. `team`: only that team's
/// keys are acted on (and labelled `true_positive`); `within`: only that project's (a
/// project-scoped reporter), decided by each key's object.
async fn answer(
    ctx: &Ctx,
    report: &[Reported],
    team: Option<&TeamId>,
    within: Option<&ProjectId>,
    reporter: Reporter,
) -> ApiResult {
    let prefix = &ctx.config.key_prefix;
    let candidates: Vec<Option<KeyHash>> = report.iter().map(|r| r.candidate(prefix)).collect();
    // In report order, each once (a set beside the list: a report may hold thousands).
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<KeyHash> = candidates
        .iter()
        .flatten()
        .filter(|h| seen.insert(**h))
        .copied()
        .collect();
    let entries = index_entries(ctx, &distinct).await?;
    let mut policies: HashMap<TeamId, LeakPolicy> = HashMap::new();
    let mut known: HashMap<KeyHash, bool> = HashMap::new();
    for (i, hash) in candidates.iter().enumerate() {
        let Some(hash) = hash else { continue };
        let Some(entry) = entries.get(hash) else {
            continue;
        };
        if known.contains_key(hash) || team.is_some_and(|t| t != &entry.team_id) {
            continue;
        }
        let policy = match policies.get(&entry.team_id) {
            Some(p) => *p,
            None => match ctx.stores.team(&entry.team_id, GetTeam {}).await? {
                Ok(t) => *policies
                    .entry(entry.team_id.clone())
                    .or_insert(t.leak_policy),
                // An index entry left of a team that is gone: no key of anyone's.
                Err(_) => continue,
            },
        };
        let call = KeyCall::Leak {
            hash: *hash,
            leak: report[i].leak(reporter, ctx.now),
            policy,
            within: within.cloned(),
        };
        let (reply, follow_up) = service::change_key(&ctx.stores, &entry.key_id, &call).await?;
        if let Some(e) = follow_up {
            console_error!(
                "relisting {} failed (its object retries): {}",
                entry.key_id,
                e.0
            );
        }
        let is_key = matches!(reply, KeyReply::Key { .. });
        if !is_key {
            ctx.stores.forget(hash);
        }
        known.insert(*hash, is_key);
    }
    let feedback = leaks::feedback(report, |i| {
        candidates[i].is_some_and(|h| known.get(&h) == Some(&true))
    });
    json(200, &feedback)
}
