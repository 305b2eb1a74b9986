// @keygate/client: keygate's management API, typed from docs/openapi.json (src/generated/, made by
// openapi-typescript: `npm run generate`), called through openapi-fetch. What is written by hand
// is only the thin layer: one method per operation that answers the body or throws a
// KeygateError, and verify() over HTTP or over a service binding with one signature.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/openapi.js";

export type { components, paths } from "./generated/openapi.js";
export type Schemas = components["schemas"];
/** An RFC 9457 problem as keygate sends it (`application/problem+json`). */
export type Problem = Schemas["Problem"];
/** A problem's `code`: the ones this version of the document lists, or a newer one. */
export type ProblemCode = Problem["code"] | (string & {});
export type VerifyInput = Schemas["VerifyRequest"];
/** The object `POST /v1/verify` answers (and the Verifier binding's `verify()` returns). */
export type Verification = Schemas["Verification"];
/** A verification's `code`: the ones this version of the document lists, or a newer one. */
export type VerificationCode = Verification["code"] | (string & {});

/** A failed call: the problem keygate answered, as an exception. */
export class KeygateError extends Error {
  readonly status: number;
  readonly code: ProblemCode;
  readonly title: string;
  readonly detail: string;
  readonly type: string;
  /** The response's headers (`Retry-After`, `WWW-Authenticate`, the rate-limit headers). */
  readonly headers: Headers;

  constructor(problem: { status: number; code: string; title: string; detail: string; type?: string }, headers = new Headers()) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.name = "KeygateError";
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail;
    this.type = problem.type ?? `urn:keygate:problem:${problem.code}`;
    this.headers = headers;
  }

  /** The error for a non-2xx answer (its body already parsed by openapi-fetch, or text). */
  static from(response: Response, body: unknown): KeygateError {
    const p = (typeof body === "object" && body !== null ? body : {}) as Partial<Problem>;
    return new KeygateError(
      {
        status: response.status,
        code: typeof p.code === "string" ? p.code : "unexpected_response",
        title: typeof p.title === "string" ? p.title : response.statusText || "Unexpected response",
        detail: typeof p.detail === "string" ? p.detail : typeof body === "string" ? body.slice(0, 200) : "",
        type: typeof p.type === "string" ? p.type : undefined,
      },
      response.headers,
    );
  }
}

type Result = { data?: unknown; error?: unknown; response: Response };

/** The body of an openapi-fetch answer, or the KeygateError of its problem. */
export async function unwrap<T extends Result>(call: Promise<T>): Promise<Exclude<T["data"], undefined>> {
  const { data, error, response } = await call;
  if (!response.ok) throw KeygateError.from(response, error);
  return data as Exclude<T["data"], undefined>;
}

async function unwrapEmpty(call: Promise<Result>): Promise<void> {
  const { error, response } = await call;
  if (!response.ok) throw KeygateError.from(response, error);
}

// The request body and query of an operation, from the generated document.
type Op<P extends keyof paths, M extends keyof paths[P]> = paths[P][M];
type Body<P extends keyof paths, M extends keyof paths[P]> =
  Op<P, M> extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type Query<P extends keyof paths, M extends keyof paths[P]> =
  Op<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export interface KeygateOptions {
  /** Where keygate answers, e.g. `https://keygate.example.com` (no trailing `/v1`). */
  baseUrl: string;
  /** An API key (`sk_live_…`) or, for `teams`, the operator token: sent as `Authorization: Bearer`. */
  token?: string;
  /** A fetch to use instead of the global one (a service binding's `fetch`, a test double). */
  fetch?: (input: Request) => Promise<Response>;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

export type Keygate = ReturnType<typeof createKeygate>;

/**
 * A client for every operation of docs/openapi.json.
 * - `api`: the openapi-fetch client, typed for every path (`api.GET("/v1/audit-log", …)`),
 *   answering `{data, error, response}` as openapi-fetch does;
 * - one method per operation (`keys.create`, `webhooks.rotateSecret`, …) that answers the body
 *   and throws a `KeygateError` for a problem;
 * - `verify()`, needing no token (the key is in the body).
 */
export function createKeygate(options: KeygateOptions) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const api: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const id = (value: string) => ({ params: { path: { id: value } } });

  return {
    api,
    /** `POST /v1/verify`: always a Verification for a well-formed request (see `valid`, `code`). */
    verify: (input: VerifyInput) => unwrap(api.POST("/v1/verify", { body: input })),
    /** `GET /v1/rate-limit`: the calling key's windows (not counted). */
    rateLimit: () => unwrap(api.GET("/v1/rate-limit")),
    health: () => unwrap(api.GET("/healthz")),
    /** The operator's endpoints (`token` is the deployment's ADMIN_TOKEN). */
    teams: {
      create: (body: Body<"/v1/teams", "post">) => unwrap(api.POST("/v1/teams", { body })),
      get: (teamId: string) => unwrap(api.GET("/v1/teams/{id}", id(teamId))),
      update: (teamId: string, body: Body<"/v1/teams/{id}", "patch">) =>
        unwrap(api.PATCH("/v1/teams/{id}", { ...id(teamId), body })),
    },
    keys: {
      list: (query?: Query<"/v1/api-keys", "get">) => unwrap(api.GET("/v1/api-keys", { params: { query } })),
      create: (body: Body<"/v1/api-keys", "post">) => unwrap(api.POST("/v1/api-keys", { body })),
      /** The calling key itself. */
      current: () => unwrap(api.GET("/v1/api-keys/current")),
      get: (keyId: string) => unwrap(api.GET("/v1/api-keys/{id}", id(keyId))),
      update: (keyId: string, body: Body<"/v1/api-keys/{id}", "patch">) =>
        unwrap(api.PATCH("/v1/api-keys/{id}", { ...id(keyId), body })),
      disable: (keyId: string) => unwrap(api.POST("/v1/api-keys/{id}/disable", id(keyId))),
      delete: (keyId: string) => unwrapEmpty(api.DELETE("/v1/api-keys/{id}", id(keyId))),
      roll: (keyId: string, body: Body<"/v1/api-keys/{id}/roll", "post"> = {}) =>
        unwrap(api.POST("/v1/api-keys/{id}/roll", { ...id(keyId), body })),
      usage: (keyId: string, query?: Query<"/v1/api-keys/{id}/usage", "get">) =>
        unwrap(api.GET("/v1/api-keys/{id}/usage", { params: { path: { id: keyId }, query } })),
    },
    projects: {
      list: () => unwrap(api.GET("/v1/projects")),
      create: (body: Body<"/v1/projects", "post">) => unwrap(api.POST("/v1/projects", { body })),
      get: (projectId: string) => unwrap(api.GET("/v1/projects/{id}", id(projectId))),
      delete: (projectId: string) => unwrapEmpty(api.DELETE("/v1/projects/{id}", id(projectId))),
    },
    roles: {
      list: () => unwrap(api.GET("/v1/roles")),
      create: (body: Body<"/v1/roles", "post">) => unwrap(api.POST("/v1/roles", { body })),
      get: (roleId: string) => unwrap(api.GET("/v1/roles/{id}", id(roleId))),
      update: (roleId: string, body: Body<"/v1/roles/{id}", "patch">) =>
        unwrap(api.PATCH("/v1/roles/{id}", { ...id(roleId), body })),
      delete: (roleId: string) => unwrapEmpty(api.DELETE("/v1/roles/{id}", id(roleId))),
    },
    serviceAccounts: {
      list: () => unwrap(api.GET("/v1/service-accounts")),
      create: (body: Body<"/v1/service-accounts", "post">) => unwrap(api.POST("/v1/service-accounts", { body })),
      get: (accountId: string) => unwrap(api.GET("/v1/service-accounts/{id}", id(accountId))),
      update: (accountId: string, body: Body<"/v1/service-accounts/{id}", "patch">) =>
        unwrap(api.PATCH("/v1/service-accounts/{id}", { ...id(accountId), body })),
      delete: (accountId: string) => unwrapEmpty(api.DELETE("/v1/service-accounts/{id}", id(accountId))),
    },
    members: {
      list: () => unwrap(api.GET("/v1/members")),
      update: (memberId: string, body: Body<"/v1/members/{id}", "patch">) =>
        unwrap(api.PATCH("/v1/members/{id}", { ...id(memberId), body })),
      delete: (memberId: string) => unwrapEmpty(api.DELETE("/v1/members/{id}", id(memberId))),
    },
    invitations: {
      list: () => unwrap(api.GET("/v1/invitations")),
      create: (body: Body<"/v1/invitations", "post">) => unwrap(api.POST("/v1/invitations", { body })),
      delete: (invitationId: string) => unwrapEmpty(api.DELETE("/v1/invitations/{id}", id(invitationId))),
      /** Needs no token: the invitation's token is in the body. */
      accept: (body: Body<"/v1/invitations/accept", "post">) => unwrap(api.POST("/v1/invitations/accept", { body })),
    },
    webhooks: {
      list: () => unwrap(api.GET("/v1/webhooks")),
      create: (body: Body<"/v1/webhooks", "post">) => unwrap(api.POST("/v1/webhooks", { body })),
      get: (hookId: string) => unwrap(api.GET("/v1/webhooks/{id}", id(hookId))),
      update: (hookId: string, body: Body<"/v1/webhooks/{id}", "patch">) =>
        unwrap(api.PATCH("/v1/webhooks/{id}", { ...id(hookId), body })),
      delete: (hookId: string) => unwrapEmpty(api.DELETE("/v1/webhooks/{id}", id(hookId))),
      rotateSecret: (hookId: string) => unwrap(api.POST("/v1/webhooks/{id}/rotate-secret", id(hookId))),
      test: (hookId: string) => unwrap(api.POST("/v1/webhooks/{id}/test", id(hookId))),
      deliveries: (hookId: string, query?: Query<"/v1/webhooks/{id}/deliveries", "get">) =>
        unwrap(api.GET("/v1/webhooks/{id}/deliveries", { params: { path: { id: hookId }, query } })),
      retry: (hookId: string, eventId: string) =>
        unwrap(
          api.POST("/v1/webhooks/{id}/deliveries/{event_id}/retry", {
            params: { path: { id: hookId, event_id: eventId } },
          }),
        ),
    },
    monitoring: () => unwrap(api.GET("/v1/monitoring")),
    auditLog: (query?: Query<"/v1/audit-log", "get">) => unwrap(api.GET("/v1/audit-log", { params: { query } })),
    /** `POST /v1/leaks`: your own scanner's findings; your team's keys among them are handled by its `leak_policy`. */
    reportLeaks: (report: Body<"/v1/leaks", "post">) => unwrap(api.POST("/v1/leaks", { body: report })),
    /**
     * `POST /v1/portal/sessions`: a link (`url`, valid once within 5 minutes) that signs your user
     * into keygate's dashboard with `role`, with "Back to …" `return_url`. With the operator token,
     * name `team_id`; with a key holding `members:write`, its own team.
     */
    createPortalSession: (body: Body<"/v1/portal/sessions", "post">) =>
      unwrap(api.POST("/v1/portal/sessions", { body })),
  };
}

/**
 * What a service binding to keygate's `Verifier` entrypoint offers (`env.KEYGATE`): `verify()`
 * answers exactly the object `POST /v1/verify` answers.
 */
export interface KeygateBinding {
  verify(input: VerifyInput): Promise<Verification>;
}

export interface Verifier {
  verify(input: VerifyInput): Promise<Verification>;
}

export type VerifierOptions =
  | { binding: KeygateBinding }
  | { baseUrl: string; fetch?: (input: Request) => Promise<Response> };

/**
 * One `verify()` whichever way keygate is reached: over a service binding (no network hop) or
 * over HTTP (`POST /v1/verify`). A refusal is an answer (`valid: false` and its `code`), not an
 * exception; only a malformed request or keygate being unreachable throws.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if ("binding" in options) {
    const binding = options.binding;
    return { verify: (input) => binding.verify(input) };
  }
  const client = createKeygate({ baseUrl: options.baseUrl, fetch: options.fetch });
  return { verify: (input) => client.verify(input) };
}
