//! The HTTP layer: routing, authentication, handlers, problem+json errors and headers.
//!
//! The pure parts (route table, errors, header formatting, bearer parsing) compile everywhere
//! and are unit-tested natively; the handlers run only on Workers.

pub mod bearer;
pub mod headers;
pub mod problem;
pub mod router;

#[cfg(target_arch = "wasm32")]
mod auth;
#[cfg(target_arch = "wasm32")]
mod ctx;
#[cfg(target_arch = "wasm32")]
mod keys;
#[cfg(target_arch = "wasm32")]
mod org;
#[cfg(target_arch = "wasm32")]
mod teams;
#[cfg(target_arch = "wasm32")]
mod verify;

#[cfg(target_arch = "wasm32")]
mod entry {
    use super::ctx::{problem_response, Ctx};
    use super::problem::ApiError;
    use super::router::{route, RouteError};
    use super::{keys, org, teams, verify};
    use crate::core::config::Config;
    use crate::core::time::Timestamp;
    use crate::storage::Stores;
    use std::sync::OnceLock;
    use worker::{console_error, event, Context, Date, Env, Request, Response, Result};

    static OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

    /// Read once per isolate: settings never change while an isolate lives.
    static CONFIG: OnceLock<std::result::Result<Config, String>> = OnceLock::new();

    fn config(env: &Env) -> std::result::Result<&'static Config, ApiError> {
        CONFIG
            .get_or_init(|| {
                let prefix = env.var("KEY_PREFIX").ok().map(|v| v.to_string());
                Config::from_vars(prefix.as_deref().filter(|p| !p.is_empty()))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| ApiError::misconfigured(e.clone()))
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
        let mut resp = handle(req, env).await?;
        let h = resp.headers_mut();
        for (name, value) in super::headers::SECURITY_HEADERS {
            h.set(name, value)?;
        }
        Ok(resp)
    }

    async fn handle(mut req: Request, env: Env) -> Result<Response> {
        let now = Timestamp::from_millis(Date::now().as_millis() as i64);
        let path = req.path();
        // The method as sent: `Request::method()` maps methods it does not know to GET.
        let method = req.inner().method();
        let matched = match route(&method, &path) {
            Ok(m) => m,
            Err(RouteError::NotFound) => return problem_response(&ApiError::route_not_found()),
            Err(RouteError::MethodNotAllowed(allowed)) => {
                return problem_response(&ApiError::method_not_allowed(&allowed))
            }
        };
        match matched.pattern {
            "/healthz" => return Response::from_json(&serde_json::json!({"status": "ok"})),
            "/openapi.json" => {
                let mut r = Response::ok(OPENAPI)?;
                r.headers_mut().set("Content-Type", "application/json")?;
                return Ok(r);
            }
            _ => {}
        }
        let config = match config(&env) {
            Ok(c) => c,
            Err(e) => return problem_response(&e),
        };
        let stores = match Stores::from_env(&env) {
            Ok(s) => s,
            Err(e) => {
                console_error!("bindings missing: {}", e.0);
                return problem_response(&ApiError::misconfigured(
                    "a KV or Durable Object binding is missing",
                ));
            }
        };
        let ctx = Ctx::new(stores, config, &env, now);
        let id = matched.id.map(str::to_owned);
        let id = id.as_deref().unwrap_or("");
        let result = match (matched.method, matched.pattern) {
            ("POST", "/v1/teams") => teams::create(&ctx, &mut req).await,
            ("GET", "/v1/teams/{id}") => teams::get(&ctx, &req, id).await,
            ("PATCH", "/v1/teams/{id}") => teams::update(&ctx, &mut req, id).await,
            ("GET", "/v1/api-keys") => keys::list(&ctx, &req).await,
            ("POST", "/v1/api-keys") => keys::create(&ctx, &mut req).await,
            ("GET", "/v1/api-keys/current") => keys::current(&ctx, &req).await,
            ("GET", "/v1/api-keys/{id}") => keys::get(&ctx, &req, id).await,
            ("PATCH", "/v1/api-keys/{id}") => keys::update(&ctx, &mut req, id).await,
            ("DELETE", "/v1/api-keys/{id}") => keys::delete(&ctx, &req, id).await,
            ("POST", "/v1/api-keys/{id}/disable") => keys::disable(&ctx, &req, id).await,
            ("POST", "/v1/verify") => verify::verify(&ctx, &mut req).await,
            ("GET", "/v1/rate-limit") => verify::rate_limit(&ctx, &req).await,
            ("GET", "/v1/projects") => org::list_projects(&ctx, &req).await,
            ("POST", "/v1/projects") => org::create_project(&ctx, &mut req).await,
            ("GET", "/v1/projects/{id}") => org::get_project(&ctx, &req, id).await,
            ("DELETE", "/v1/projects/{id}") => org::delete_project(&ctx, &req, id).await,
            ("GET", "/v1/roles") => org::list_roles(&ctx, &req).await,
            ("POST", "/v1/roles") => org::create_role(&ctx, &mut req).await,
            ("GET", "/v1/roles/{id}") => org::get_role(&ctx, &req, id).await,
            ("PATCH", "/v1/roles/{id}") => org::update_role(&ctx, &mut req, id).await,
            ("DELETE", "/v1/roles/{id}") => org::delete_role(&ctx, &req, id).await,
            ("GET", "/v1/service-accounts") => org::list_accounts(&ctx, &req).await,
            ("POST", "/v1/service-accounts") => org::create_account(&ctx, &mut req).await,
            ("GET", "/v1/service-accounts/{id}") => org::get_account(&ctx, &req, id).await,
            ("PATCH", "/v1/service-accounts/{id}") => org::update_account(&ctx, &mut req, id).await,
            ("DELETE", "/v1/service-accounts/{id}") => org::delete_account(&ctx, &req, id).await,
            _ => Err(ApiError::route_not_found()),
        };
        ctx.finish(result)
    }
}
