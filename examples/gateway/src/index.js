// keygate's gateway: a Worker that puts keygate in front of any HTTP origin.
//
// For each request: the route table (ROUTES) names the permissions it needs (no route: 404,
// nothing reached); the key comes from `Authorization: Bearer <key>` or `X-API-Key: <key>`
// (two different keys: 400); keygate verifies it through the service binding (KEYGATE, the
// `Verifier` entrypoint: RPC, no network hop; the verification is counted like any request of
// the key); a refusal is the problem+json keygate answers a bearer request with; an admitted
// request goes to ORIGIN with its body streamed, without the key's headers and with
// X-Keygate-Key-Id, X-Keygate-Team-Id, X-Keygate-Project-Id (when the key has a project) and
// X-Keygate-Permissions (comma-separated), any copy the client sent removed first. Every answer
// for a verified key carries its X-RateLimit-Limit, -Remaining and -Reset.
//
// Settings (wrangler.toml [vars]): ORIGIN, the origin's base URL; ROUTES, a JSON array of
// {"method": "GET"|…|"*", "path": a URLPattern pathname ("/tasks/:id", "/uploads/*"),
// "permissions": [...]}, first match wins.

/** The headers that carry the verified key to the origin: never taken from the client. */
const IDENTITY_HEADERS = ["X-Keygate-Key-Id", "X-Keygate-Team-Id", "X-Keygate-Project-Id", "X-Keygate-Permissions"];
/** The headers that carry the key: never sent on to the origin. */
const KEY_HEADERS = ["Authorization", "X-API-Key"];

function problem(status, code, title, detail, headers = {}) {
  return new Response(JSON.stringify({ type: `urn:keygate:problem:${code}`, title, status, detail, code }), {
    status,
    headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store", ...headers },
  });
}

const unauthorized = (code, title, detail, headers = {}) =>
  problem(401, code, title, detail, { "WWW-Authenticate": "Bearer", ...headers });

/** keygate's answer to a bearer request refused with this code (src/http/problem.rs). */
const REFUSALS = {
  malformed_key: [401, "Malformed API key", "the key is not a well-formed keygate key"],
  invalid_key: [401, "Invalid API key", "no such key: it never existed or it was deleted"],
  expired_key: [401, "Expired API key", "the key is past its `expires_at`"],
  disabled_key: [401, "Disabled API key", "the key was disabled and cannot be used again"],
  insufficient_permissions: [403, "Insufficient permissions", "this key lacks a permission this request needs"],
  project_mismatch: [403, "Outside the key's project", "this key is scoped to another project"],
  rate_limited: [429, "Rate limit exceeded", "this key has no requests left in the current window"],
};

/** The route table, parsed once per isolate (per value of ROUTES). */
let table = { source: undefined, routes: undefined, error: undefined };

function routes(env) {
  if (table.source === env.ROUTES) return table;
  table = { source: env.ROUTES, routes: undefined, error: undefined };
  try {
    const list = typeof env.ROUTES === "string" ? JSON.parse(env.ROUTES) : env.ROUTES;
    if (!Array.isArray(list)) throw new Error("ROUTES must be a JSON array");
    table.routes = list.map((r, i) => {
      const method = typeof r?.method === "string" ? r.method.toUpperCase() : undefined;
      const permissions = r?.permissions ?? [];
      if (!method || typeof r.path !== "string" || !Array.isArray(permissions)) {
        throw new Error(`ROUTES[${i}] needs "method", "path" and a "permissions" array`);
      }
      return { method, pattern: new URLPattern({ pathname: r.path }), permissions };
    });
  } catch (e) {
    table.error = e.message;
  }
  return table;
}

/** The key a request presents, or the problem keygate would answer (its rules for the headers). */
function presentedKey(headers) {
  const authorization = headers.get("Authorization");
  const apiKey = headers.get("X-API-Key")?.trim() || undefined;
  let bearer;
  if (authorization !== null) {
    const text = authorization.trim();
    const space = text.indexOf(" ");
    const scheme = space < 0 ? text : text.slice(0, space);
    const token = space < 0 ? "" : text.slice(space + 1).trim();
    if (scheme.toLowerCase() !== "bearer" || token === "" || token.includes(" ")) {
      return { refusal: unauthorized("malformed_key", "Malformed API key", "the Authorization header must be `Bearer <key>`") };
    }
    bearer = token;
  }
  if (bearer !== undefined && apiKey !== undefined && apiKey !== bearer) {
    return {
      refusal: problem(400, "ambiguous_credentials", "Two credentials",
        "send the key as `Authorization: Bearer <key>` or as `X-API-Key`, not two different keys"),
    };
  }
  const key = bearer ?? apiKey;
  if (key === undefined) {
    return { refusal: unauthorized("missing_key", "Missing API key", "send the key as `Authorization: Bearer <key>` or `X-API-Key: <key>`") };
  }
  return { key };
}

/** The rate-limit headers of a verification (the window that will refuse first). */
function rateLimitHeaders(v) {
  const r = v.rate_limit;
  if (!r) return {};
  return { "X-RateLimit-Limit": String(r.limit), "X-RateLimit-Remaining": String(r.remaining), "X-RateLimit-Reset": String(r.reset) };
}

function refusal(v) {
  const [status, title, generic] = REFUSALS[v.code] ?? [403, "Refused", "keygate refused this key"];
  const headers = rateLimitHeaders(v);
  let detail = generic;
  if (status === 401) return unauthorized(v.code, title, detail, headers);
  if (status === 429) {
    const retry = Math.max(1, (v.rate_limit?.reset ?? 0) - Math.floor(Date.now() / 1000));
    headers["Retry-After"] = String(retry);
    detail = `${generic}; retry in ${retry} s`;
  }
  return problem(status, v.code, title, detail, headers);
}

export default {
  async fetch(request, env) {
    const { routes: list, error } = routes(env);
    if (error || !env.ORIGIN) {
      return problem(503, "misconfigured", "Service misconfigured", error ?? "ORIGIN is not set");
    }
    const url = new URL(request.url);
    const route = list.find((r) => (r.method === "*" || r.method === request.method) && r.pattern.test({ pathname: url.pathname }));
    if (!route) return problem(404, "not_found", "Not found", "no such endpoint");
    const presented = presentedKey(request.headers);
    if (presented.refusal) return presented.refusal;

    let v;
    try {
      v = await env.KEYGATE.verify({ key: presented.key, permissions: route.permissions });
    } catch (e) {
      // A permission keygate refuses (bad ROUTES) is the gateway's misconfiguration; anything
      // else is keygate not answering. Never the key: it is not in the message.
      return e?.status === 400
        ? problem(503, "misconfigured", "Service misconfigured", `ROUTES: ${e.message}`)
        : problem(503, "service_unavailable", "Service unavailable", "keygate did not answer; retry shortly", { "Retry-After": "1" });
    }
    if (!v.valid) return refusal(v);

    const headers = new Headers(request.headers);
    for (const name of [...KEY_HEADERS, ...IDENTITY_HEADERS, "Host"]) headers.delete(name);
    headers.set("X-Keygate-Key-Id", v.key_id);
    headers.set("X-Keygate-Team-Id", v.team_id);
    if (v.project_id) headers.set("X-Keygate-Project-Id", v.project_id);
    headers.set("X-Keygate-Permissions", v.permissions.join(","));
    const upstream = await fetch(env.ORIGIN.replace(/\/+$/, "") + url.pathname + url.search, {
      method: request.method,
      headers,
      body: request.body, // streamed as it arrives, never buffered here
      redirect: "manual",
    });
    const response = new Response(upstream.body, upstream);
    for (const [name, value] of Object.entries(rateLimitHeaders(v))) response.headers.set(name, value);
    return response;
  },
};
