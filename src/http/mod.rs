//! The HTTP layer: routing, authentication, handlers, problem+json errors and headers.
//!
//! The pure parts (route table, errors, header formatting, bearer parsing) compile everywhere
//! and are unit-tested natively; the handlers run only on Workers.

pub mod credentials;
pub mod front;
pub mod headers;
pub mod problem;
pub mod router;
pub mod verification;

#[cfg(target_arch = "wasm32")]
mod auth;
#[cfg(target_arch = "wasm32")]
mod ctx;
#[cfg(target_arch = "wasm32")]
mod keys;
#[cfg(target_arch = "wasm32")]
mod leaks;
#[cfg(target_arch = "wasm32")]
mod members;
#[cfg(target_arch = "wasm32")]
mod org;
#[cfg(target_arch = "wasm32")]
mod password;
#[cfg(target_arch = "wasm32")]
mod portal;
#[cfg(target_arch = "wasm32")]
mod rpc;
#[cfg(target_arch = "wasm32")]
mod signin;
#[cfg(target_arch = "wasm32")]
mod teams;
#[cfg(target_arch = "wasm32")]
mod totp;
#[cfg(target_arch = "wasm32")]
mod verify;
#[cfg(target_arch = "wasm32")]
mod webhooks;

#[cfg(target_arch = "wasm32")]
pub use serve::{config, handle, ready};

#[cfg(target_arch = "wasm32")]
mod serve {
    use super::ctx::{problem_response, ApiResult, Ctx};
    use super::problem::ApiError;
    use super::router::{route, Route, RouteError};
    use super::{keys, leaks, members, org, portal, teams, totp, verify, webhooks};
    use crate::core::config::Config;
    use crate::core::time::Timestamp;
    use crate::storage::Stores;
    use std::sync::OnceLock;
    use worker::{console_error, Date, Env, Request, Response, Result};

    /// Read once per isolate: settings never change while an isolate lives.
    static CONFIG: OnceLock<std::result::Result<Config, String>> = OnceLock::new();

    pub fn config(env: &Env) -> std::result::Result<&'static Config, ApiError> {
        CONFIG
            .get_or_init(|| {
                let prefix = env.var("KEY_PREFIX").ok().map(|v| v.to_string());
                Config::from_vars(prefix.as_deref().filter(|p| !p.is_empty()))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| ApiError::misconfigured(e.clone()))
    }

    /// Whether the KV and Durable Object bindings are there, read once per isolate (bindings
    /// never change while an isolate lives).
    static BINDINGS: OnceLock<bool> = OnceLock::new();

    /// The settings, if the isolate can serve storage routes at all: the entry's front answers
    /// without storage only then, and otherwise leaves the `503` to the full path (which says
    /// which binding or setting is missing, and logs it).
    pub fn ready(env: &Env) -> std::result::Result<&'static Config, ApiError> {
        let config = config(env)?;
        if *BINDINGS.get_or_init(|| Stores::from_env(env).is_ok()) {
            Ok(config)
        } else {
            Err(ApiError::misconfigured(
                "a KV or Durable Object binding is missing",
            ))
        }
    }

    /// `GET /openapi.json`: the document from the static assets (build/public, minified by
    /// scripts/build.sh), so it costs the wasm nothing; the API's headers are added by `handle`.
    async fn openapi(req: Request, env: &Env) -> Result<Response> {
        let assets = match env.assets("ASSETS") {
            Ok(a) => a,
            Err(_) => {
                return problem_response(&ApiError::misconfigured(
                    "the ASSETS binding is missing (wrangler.toml [assets])",
                ))
            }
        };
        let mut resp = assets.fetch_request(req).await?;
        let status = resp.status_code();
        let body = resp.bytes().await?;
        let mut r = Response::from_bytes(body)?.with_status(status);
        r.headers_mut().set("Content-Type", "application/json")?;
        Ok(r)
    }

    /// Answers one request: routes it, runs its handler, and stamps the headers every response
    /// carries. `body`: the request's body, when the entry's front has already read it.
    pub async fn handle(req: Request, env: Env, body: Option<Vec<u8>>) -> Result<Response> {
        let mut resp = respond(req, env, body).await?;
        let h = resp.headers_mut();
        for (name, value) in super::headers::SECURITY_HEADERS {
            h.set(name, value)?;
        }
        Ok(resp)
    }

    async fn respond(mut req: Request, env: Env, body: Option<Vec<u8>>) -> Result<Response> {
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
        match matched.route {
            Route::Healthz => {
                let mut r = Response::ok(r#"{"status":"ok"}"#)?;
                r.headers_mut().set("Content-Type", "application/json")?;
                return Ok(r);
            }
            Route::OpenApi => return openapi(req, &env).await,
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
        let ctx = Ctx::new(stores, config, &req, &env, now);
        ctx.pre_read.set(body);
        let id = matched.id.map(str::to_owned);
        let id = id.as_deref().unwrap_or("");
        let sub = matched.sub.map(str::to_owned);
        let sub = sub.as_deref().unwrap_or("");
        let (ctx, req) = (&ctx, &mut req);
        let result = dispatch(matched.route, ctx, req, (id, sub)).await;
        ctx.finish(result)
    }
    /// Every route's handler: one match, one Worker (verification, management, webhooks).
    async fn dispatch(
        route: Route,
        ctx: &Ctx,
        req: &mut Request,
        (id, sub): (&str, &str),
    ) -> ApiResult {
        match route {
            // Answered above, before any context is built (they are the runtime's floor).
            Route::Healthz | Route::OpenApi => Err(ApiError::route_not_found()),
            Route::CreateTeam => teams::create(ctx, req).await,
            Route::GetTeam => teams::get(ctx, req, id).await,
            Route::UpdateTeam => teams::update(ctx, req, id).await,
            Route::ListKeys => keys::list(ctx, req).await,
            Route::CreateKey => keys::create(ctx, req).await,
            Route::CurrentKey => keys::current(ctx, req).await,
            Route::GetKey => keys::get(ctx, req, id).await,
            Route::UpdateKey => keys::update(ctx, req, id).await,
            Route::DeleteKey => keys::delete(ctx, req, id).await,
            Route::DisableKey => keys::disable(ctx, req, id).await,
            Route::RollKey => keys::roll(ctx, req, id).await,
            Route::KeyUsage => keys::usage(ctx, req, id).await,
            Route::Verify => verify::verify(ctx, req).await,
            Route::RateLimit => verify::rate_limit(ctx, req).await,
            Route::ListProjects => org::list_projects(ctx, req).await,
            Route::CreateProject => org::create_project(ctx, req).await,
            Route::GetProject => org::get_project(ctx, req, id).await,
            Route::DeleteProject => org::delete_project(ctx, req, id).await,
            Route::ListRoles => org::list_roles(ctx, req).await,
            Route::CreateRole => org::create_role(ctx, req).await,
            Route::GetRole => org::get_role(ctx, req, id).await,
            Route::UpdateRole => org::update_role(ctx, req, id).await,
            Route::DeleteRole => org::delete_role(ctx, req, id).await,
            Route::ListAccounts => org::list_accounts(ctx, req).await,
            Route::CreateAccount => org::create_account(ctx, req).await,
            Route::GetAccount => org::get_account(ctx, req, id).await,
            Route::UpdateAccount => org::update_account(ctx, req, id).await,
            Route::DeleteAccount => org::delete_account(ctx, req, id).await,
            Route::SignIn => members::sign_in(ctx, req).await,
            Route::SignOut => members::sign_out(ctx, req).await,
            Route::Me => members::me(ctx, req).await,
            Route::ChangePassword => members::change_password(ctx, req).await,
            Route::EnrolTotp => totp::enrol(ctx, req).await,
            Route::ConfirmTotp => totp::confirm(ctx, req).await,
            Route::DisableTotp => totp::disable(ctx, req).await,
            Route::ListMembers => members::list_members(ctx, req).await,
            Route::UpdateMember => members::update_member(ctx, req, id).await,
            Route::RemoveMember => members::remove_member(ctx, req, id).await,
            Route::ListInvitations => members::list_invitations(ctx, req).await,
            Route::CreateInvitation => members::invite(ctx, req).await,
            Route::AcceptInvitation => members::accept(ctx, req).await,
            Route::WithdrawInvitation => members::withdraw_invitation(ctx, req, id).await,
            Route::ReportLeaks => leaks::report(ctx, req).await,
            Route::GithubLeaks => leaks::github(ctx, req).await,
            Route::OpenPortal => portal::open(ctx, req).await,
            Route::ArrivePortal => portal::arrive(ctx, req, id).await,
            Route::MySessions => portal::my_sessions(ctx, req).await,
            Route::EndMySession => portal::end_my_session(ctx, req, id).await,
            Route::ListWebhooks => webhooks::list_webhooks(ctx, req).await,
            Route::CreateWebhook => webhooks::create(ctx, req).await,
            Route::GetWebhook => webhooks::get(ctx, req, id).await,
            Route::UpdateWebhook => webhooks::update(ctx, req, id).await,
            Route::DeleteWebhook => webhooks::delete(ctx, req, id).await,
            Route::RotateWebhookSecret => webhooks::rotate_secret(ctx, req, id).await,
            Route::TestWebhook => webhooks::test(ctx, req, id).await,
            Route::ListDeliveries => webhooks::deliveries(ctx, req, id).await,
            Route::RetryDelivery => webhooks::retry(ctx, req, id, sub).await,
            Route::Monitoring => webhooks::monitoring(ctx, req).await,
            Route::AuditLog => webhooks::audit_log(ctx, req).await,
        }
    }
}
