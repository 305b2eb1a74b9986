//! Passwords at the edge: PBKDF2-HMAC-SHA256 through WebCrypto, on the pepper-keyed HMAC of the
//! password (`core::members::peppered`), with the iterations and the stored form fixed in the
//! core. WebCrypto rather than a Rust KDF in wasm: the same 100,000 iterations cost ~16 ms of
//! CPU there against ~48 ms in wasm, and production workerd caps PBKDF2 at 100,000
//! (`core::members::PRODUCTION_PBKDF2_CAP`; argon2id in wasm was the alternative, ~34 ms and
//! 19 MiB that the isolate never gets back). See docs/architecture.md, "Members and sessions".

use super::ctx::{internal, Ctx};
use super::problem::ApiError;
use crate::core::members::{peppered, Password, PasswordHash, PBKDF2_ITERATIONS};
use crate::core::random::OsRandom;
use worker::js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(
        format: &str,
        key: &Uint8Array,
        algorithm: &str,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = deriveBits, catch)]
    fn derive_bits(algorithm: &Object, key: &JsValue, length: u32) -> Result<Promise, JsValue>;
}

/// The pepper (`PASSWORD_PEPPER`, a Workers secret). Without one, members cannot sign in: the
/// operator must set it (a deployment error, said as such, never a guess).
pub(super) fn pepper(ctx: &Ctx) -> Result<String, ApiError> {
    ctx.env
        .secret("PASSWORD_PEPPER")
        .map(|s| s.to_string())
        .or_else(|_| ctx.env.var("PASSWORD_PEPPER").map(|v| v.to_string()))
        .ok()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            ApiError::misconfigured(
                "PASSWORD_PEPPER is not set: `npx wrangler secret put PASSWORD_PEPPER`",
            )
        })
}

async fn derive(
    pepper: &str,
    password: &Password,
    salt: &[u8; 16],
    iterations: u32,
) -> Result<[u8; 32], ApiError> {
    let input = Uint8Array::from(&peppered(pepper, password)[..]);
    let fail = |e: JsValue| internal("password derivation", format!("{e:?}"));
    let usages = Array::of1(&JsValue::from_str("deriveBits"));
    let key = JsFuture::from(import_key("raw", &input, "PBKDF2", false, &usages).map_err(fail)?)
        .await
        .map_err(fail)?;
    let algorithm = Object::new();
    for (name, value) in [
        ("name", JsValue::from_str("PBKDF2")),
        ("hash", JsValue::from_str("SHA-256")),
        ("salt", Uint8Array::from(&salt[..]).into()),
        ("iterations", JsValue::from(iterations)),
    ] {
        Reflect::set(&algorithm, &JsValue::from_str(name), &value).map_err(fail)?;
    }
    let bits = JsFuture::from(derive_bits(&algorithm, &key, 256).map_err(fail)?)
        .await
        .map_err(fail)?;
    let bytes = Uint8Array::new(&bits).to_vec();
    bytes
        .try_into()
        .map_err(|_| internal("password derivation", "not 32 bytes"))
}

/// The stored form of a new password (a fresh random salt).
pub async fn hash_new(ctx: &Ctx, password: &Password) -> Result<String, ApiError> {
    let salt = PasswordHash::new_salt(&mut OsRandom);
    let hash = derive(&pepper(ctx)?, password, &salt, PBKDF2_ITERATIONS).await?;
    Ok(PasswordHash {
        iterations: PBKDF2_ITERATIONS,
        salt,
        hash,
    }
    .encode())
}

/// Does `password` match `stored`? With nothing stored (an unknown email) it is compared
/// against a decoy, so both answers cost one derivation.
pub async fn matches(
    ctx: &Ctx,
    password: &Password,
    stored: Option<&str>,
) -> Result<bool, ApiError> {
    let stored = stored.and_then(PasswordHash::decode);
    let known = stored.is_some();
    let target = stored.unwrap_or_else(PasswordHash::decoy);
    let derived = derive(&pepper(ctx)?, password, &target.salt, target.iterations).await?;
    Ok(target.matches(&derived) && known)
}
