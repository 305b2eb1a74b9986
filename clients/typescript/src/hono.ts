// @keygate/client/hono: a Hono middleware that lets a request in only with a key keygate admits.
//
//   app.use("/tasks/*", keygate({ permissions: ["tasks:read"], binding: "KEYGATE" }))
//   app.get("/tasks", (c) => c.json({ team: c.get("keygate").team_id }))
//
// The key comes from `Authorization: Bearer <key>` or `X-API-Key: <key>` (both with different
// keys: 400). A refusal answers the problem+json keygate itself answers a bearer request with
// (the table below); every answer carries the key's rate-limit headers.
import type { Context, MiddlewareHandler } from "hono";
import { createVerifier, type KeygateBinding, type Verification, type Verifier, type VerifyInput } from "./index.js";

export type { Verification } from "./index.js";

export interface KeygateEnv {
  Variables: { keygate: Verification };
}

export interface KeygateMiddlewareOptions {
  /** Permissions the key must all hold (none: any valid key). */
  permissions?: string[];
  /** Admit only keys of this project (others answer 403 project_mismatch). */
  project_id?: string;
  /**
   * The service binding to keygate's `Verifier` entrypoint: the binding's name in `c.env`
   * (`"KEYGATE"`), the binding itself, or a function of the context that returns it.
   */
  binding?: string | KeygateBinding | ((c: Context) => KeygateBinding);
  /** Or keygate's URL, to verify over HTTP (`POST /v1/verify`). */
  baseUrl?: string;
  /** With `baseUrl`: a fetch to use instead of the global one. */
  fetch?: (input: Request) => Promise<Response>;
}

/** How keygate answers a bearer request refused with a verification's `code` (src/http/problem.rs). */
export const REFUSALS: Record<string, { status: 401 | 403 | 429; title: string; detail: string }> = {
  malformed_key: { status: 401, title: "Malformed API key", detail: "the key is not a well-formed keygate key" },
  invalid_key: { status: 401, title: "Invalid API key", detail: "no such key: it never existed or it was deleted" },
  expired_key: { status: 401, title: "Expired API key", detail: "the key is past its `expires_at`" },
  disabled_key: { status: 401, title: "Disabled API key", detail: "the key was disabled and cannot be used again" },
  insufficient_permissions: { status: 403, title: "Insufficient permissions", detail: "this key lacks a permission this request needs" },
  project_mismatch: { status: 403, title: "Outside the key's project", detail: "this key is scoped to another project" },
  ip_not_allowed: { status: 403, title: "IP address not allowed", detail: "this key may not be used from this address" },
  rate_limited: { status: 429, title: "Rate limit exceeded", detail: "this key has no requests left in the current window" },
  quota_exceeded: { status: 429, title: "Monthly quota exceeded", detail: "this key has used its requests for this month" },
  usage_exceeded: { status: 429, title: "No credits left", detail: "this key has no credits left" },
};

/** A code this table does not know (a newer keygate): refused, as forbidden. */
const UNKNOWN_REFUSAL = { status: 403 as const, title: "Refused", detail: "keygate refused this key" };

export function problem(status: number, code: string, title: string, detail: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: `urn:keygate:problem:${code}`, title, status, detail, code }), {
    status,
    headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store", ...headers },
  });
}

const unauthorized = (code: string, title: string, detail: string) =>
  problem(401, code, title, detail, { "WWW-Authenticate": "Bearer" });

/** The key a request presents, or the problem to answer (keygate's rules for the two headers). */
export function presentedKey(headers: Headers): { key: string } | { refusal: Response } {
  const authorization = headers.get("Authorization");
  const apiKey = headers.get("X-API-Key")?.trim();
  let bearer: string | undefined;
  if (authorization !== null) {
    const [scheme, token, ...rest] = authorization.trim().split(/ +/);
    if (scheme?.toLowerCase() !== "bearer" || !token || rest.length > 0) {
      return { refusal: unauthorized("malformed_key", "Malformed API key", "the Authorization header must be `Bearer <key>`") };
    }
    bearer = token;
  }
  if (bearer !== undefined && apiKey && apiKey !== bearer) {
    return {
      refusal: problem(400, "ambiguous_credentials", "Two credentials", "send the key as `Authorization: Bearer <key>` or as `X-API-Key`, not two different keys"),
    };
  }
  const key = bearer ?? apiKey;
  if (!key) {
    return { refusal: unauthorized("missing_key", "Missing API key", "send the key as `Authorization: Bearer <key>` or `X-API-Key: <key>`") };
  }
  return { key };
}

/** The rate-limit headers keygate sends for the window that will refuse first. */
export function rateLimitHeaders(v: Verification): Record<string, string> {
  const r = v.rate_limit;
  if (!r || r.limit === undefined || r.remaining === undefined || r.reset === undefined) return {};
  return {
    "X-RateLimit-Limit": String(r.limit),
    "X-RateLimit-Remaining": String(r.remaining),
    "X-RateLimit-Reset": String(r.reset),
  };
}

/** The answer keygate gives a bearer request refused with this verification. */
export function refusal(v: Verification, now = Date.now()): Response {
  const known = REFUSALS[v.code];
  const r = known ?? UNKNOWN_REFUSAL;
  const headers = rateLimitHeaders(v);
  if (r.status === 401) headers["WWW-Authenticate"] = "Bearer";
  if (r.status === 429) {
    const reset = v.rate_limit?.reset;
    headers["Retry-After"] = String(reset === undefined ? 1 : Math.max(1, reset - Math.floor(now / 1000)));
  }
  return problem(r.status, v.code, r.title, r.detail, headers);
}

function verifierFor(c: Context, options: KeygateMiddlewareOptions, http: Verifier | undefined): Verifier {
  if (http) return http;
  const b = options.binding;
  const binding =
    typeof b === "string" ? (c.env as Record<string, KeygateBinding> | undefined)?.[b] : typeof b === "function" ? b(c) : b;
  if (!binding || typeof binding.verify !== "function") {
    throw new Error(`keygate middleware: no service binding ${typeof b === "string" ? `"${b}" ` : ""}with a verify() method`);
  }
  return createVerifier({ binding });
}

export function keygate(options: KeygateMiddlewareOptions): MiddlewareHandler<KeygateEnv> {
  if (!options.binding === !options.baseUrl) {
    throw new Error("keygate middleware: give either `binding` or `baseUrl`");
  }
  const http = options.baseUrl ? createVerifier({ baseUrl: options.baseUrl, fetch: options.fetch }) : undefined;
  return async (c, next) => {
    const presented = presentedKey(c.req.raw.headers);
    if ("refusal" in presented) return presented.refusal;
    const input: VerifyInput = { key: presented.key };
    if (options.permissions?.length) input.permissions = options.permissions;
    if (options.project_id) input.project_id = options.project_id;
    const verification = await verifierFor(c, options, http).verify(input);
    if (!verification.valid) return refusal(verification);
    c.set("keygate", verification);
    await next();
    for (const [name, value] of Object.entries(rateLimitHeaders(verification))) c.header(name, value);
  };
}
