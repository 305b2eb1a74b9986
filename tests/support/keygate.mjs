// keygate's three Workers as Miniflare serves them (build/, real KV, SQLite-backed Durable
// Objects), as wrangler.toml, wrangler.admin.toml and wrangler.events.toml declare them: one
// definition for the test server (server.mjs), the browser tests and the scale benchmark.
//
// `keygate` (build/edge) is the public Worker: /healthz, /v1/verify, /v1/rate-limit, the key
// objects and the dashboard's assets; it hands /v1/webhooks/* to `keygate-events` (build/events:
// webhooks, the events objects) and every other request to `keygate-admin` (build/admin: the
// management API, the team objects) through service bindings. Each binds the others' objects
// by `scriptName`, and all the same KV namespace.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const COMPATIBILITY_DATE = "2026-10-01";

function modules(worker) {
  const dir = path.join(root, "build", worker);
  return {
    modulesRoot: dir,
    modules: [
      { type: "ESModule", path: path.join(dir, "entry.mjs") },
      { type: "ESModule", path: path.join(dir, "rpc.mjs") },
      { type: "ESModule", path: path.join(dir, "index.js") },
      { type: "CompiledWasm", path: path.join(dir, "index_bg.wasm") },
    ],
  };
}

/**
 * `assets: false` leaves out the static assets (the dashboard): the benchmark does, because
 * Miniflare serves assets through two extra workers (a router and an asset worker) that every
 * request passes, /v1/* included, which in production is Cloudflare's routing, not an isolate
 * of ours (measured: /healthz 3,726 → 1,182 req/s locally with them).
 * `extraBindings` are added to both Workers (e.g. ALLOW_INSECURE_WEBHOOKS for the tests).
 */
export function keygateWorkers({ keyPrefix = "sk", adminToken = "test-admin-token", assets = true, extraBindings = {} } = {}) {
  const kvNamespaces = { KEY_INDEX: "keygate-key-index" };
  const objects = (own) => ({
    KEY_OBJECTS: own === "keygate" ? { className: "KeyObject", useSQLite: true } : { className: "KeyObject", scriptName: "keygate" },
    TEAM_OBJECTS: own === "keygate-admin" ? { className: "TeamObject", useSQLite: true } : { className: "TeamObject", scriptName: "keygate-admin" },
    EVENTS_OBJECTS: own === "keygate-events" ? { className: "EventsObject", useSQLite: true } : { className: "EventsObject", scriptName: "keygate-events" },
  });
  const edge = {
    name: "keygate",
    ...modules("edge"),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: { KEY_PREFIX: keyPrefix, ...extraBindings },
    kvNamespaces,
    serviceBindings: { ADMIN: "keygate-admin", EVENTS: "keygate-events" },
    // As wrangler.toml's [assets]: the worker first for the API, the dashboard's files otherwise.
    assets: assets ? {
      directory: path.join(root, "build/public"),
      binding: "ASSETS",
      routerConfig: {
        has_user_worker: true,
        static_routing: { user_worker: ["/v1/*", "/healthz", "/openapi.json"], asset_worker: [] },
      },
    } : undefined,
    durableObjects: objects("keygate"),
  };
  const admin = {
    name: "keygate-admin",
    ...modules("admin"),
    compatibilityDate: COMPATIBILITY_DATE,
    // Test-only secrets: the production ones are `wrangler secret put`, never in the repository.
    bindings: { KEY_PREFIX: keyPrefix, ADMIN_TOKEN: adminToken, PASSWORD_PEPPER: "test-pepper", ...extraBindings },
    kvNamespaces,
    durableObjects: objects("keygate-admin"),
  };
  const events = {
    name: "keygate-events",
    ...modules("events"),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: { KEY_PREFIX: keyPrefix, ...extraBindings },
    kvNamespaces,
    durableObjects: objects("keygate-events"),
  };
  return [edge, admin, events];
}
