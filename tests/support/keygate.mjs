// keygate's worker as Miniflare serves it (build/, real KV, SQLite-backed Durable Objects): one
// definition for the test server (server.mjs) and the scale benchmark (bench/scale.mjs).
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * `assets: false` leaves out the static assets (the dashboard): the benchmark does, because
 * Miniflare serves assets through two extra workers (a router and an asset worker) that every
 * request passes, /v1/* included, which in production is Cloudflare's routing, not an isolate
 * of ours (measured: /healthz 3,726 → 1,182 req/s locally with them).
 */
export function keygateWorker({ keyPrefix = "sk", adminToken = "test-admin-token", assets = true } = {}) {
  return {
    name: "keygate",
    modulesRoot: path.join(root, "build"),
    modules: [
      { type: "ESModule", path: path.join(root, "build/entry.mjs") },
      { type: "ESModule", path: path.join(root, "build/index.js") },
      { type: "CompiledWasm", path: path.join(root, "build/index_bg.wasm") },
    ],
    compatibilityDate: "2026-10-01",
    // Test-only secrets: the production ones are `wrangler secret put`, never in the repository.
    bindings: { KEY_PREFIX: keyPrefix, ADMIN_TOKEN: adminToken, PASSWORD_PEPPER: "test-pepper" },
    kvNamespaces: ["KEY_INDEX"],
    // As wrangler.toml's [assets]: the worker first for the API, the dashboard's files otherwise.
    assets: assets ? {
      directory: path.join(root, "build/public"),
      binding: "ASSETS",
      routerConfig: {
        has_user_worker: true,
        static_routing: { user_worker: ["/v1/*", "/healthz", "/openapi.json"], asset_worker: [] },
      },
    } : undefined,
    durableObjects: {
      KEY_OBJECTS: { className: "KeyObject", useSQLite: true },
      TEAM_OBJECTS: { className: "TeamObject", useSQLite: true },
    },
  };
}
