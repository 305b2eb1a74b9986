//! The worker's entry points: what the runtime calls. Each hands its event to the layer that
//! serves it (`fetch` → `http`); the Durable Objects' entries are their classes in `objects`.
//! Scheduled, queue and alarm-driven work will get its entry here, off the request's path.

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    crate::http::handle(req, env).await
}
