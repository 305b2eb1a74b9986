// keygate as Miniflare serves it (build/worker, real KV, SQLite-backed Durable Objects), as
// wrangler.toml declares it: one Worker with its three object classes and its assets. One
// definition for the test server (server.mjs), the browser tests and the benchmarks
// (bench/startup.mjs, bench/scale.mjs); tests/deploy.rs holds it to wrangler.toml.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const COMPATIBILITY_DATE = "2026-10-01";

/** The built Worker's modules (scripts/build.sh): the entry, the generated glue, the wasm. */
export function modules(dir = path.join(root, "build/worker")) {
  return {
    modulesRoot: dir,
    modules: [
      { type: "ESModule", path: path.join(dir, "entry.mjs") },
      { type: "ESModule", path: path.join(dir, "verifier.mjs") },
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
 * `without` lists secrets to leave out (ADMIN_TOKEN, PASSWORD_PEPPER: a deployment that forgot them),
 * or KEY_INDEX, the KV binding (a deployment whose wrangler.toml lost it).
 * `extraBindings` are added to the Worker's (e.g. ALLOW_INSECURE_WEBHOOKS for the tests).
 */
export function keygateWorker({
  keyPrefix = "sk",
  adminToken = "test-admin-token",
  assets = true,
  without = [],
  extraBindings = {},
  name = "keygate",
  dir,
} = {}) {
  // Test-only secrets: the production ones are `wrangler secret put`, never in the repository.
  const secretBindings = Object.fromEntries(
    Object.entries({ ADMIN_TOKEN: adminToken, PASSWORD_PEPPER: "test-pepper" }).filter(([k]) => !without.includes(k)),
  );
  return {
    name,
    ...modules(dir),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: { KEY_PREFIX: keyPrefix, ALLOW_INSECURE_WEBHOOKS: "false", ...secretBindings, ...extraBindings },
    kvNamespaces: without.includes("KEY_INDEX") ? {} : { KEY_INDEX: "keygate-key-index" },
    durableObjects: {
      KEY_OBJECTS: { className: "KeyObject", useSQLite: true },
      TEAM_OBJECTS: { className: "TeamObject", useSQLite: true },
      EVENTS_OBJECTS: { className: "EventsObject", useSQLite: true },
    },
    // As wrangler.toml's [assets]: the worker first for the API, the dashboard's files otherwise.
    assets: assets ? {
      directory: path.join(root, "build/public"),
      binding: "ASSETS",
      routerConfig: {
        has_user_worker: true,
        static_routing: { user_worker: ["/v1/*", "/healthz", "/openapi.json"], asset_worker: [] },
      },
    } : undefined,
  };
}

/**
 * A product's Worker bound to keygate's `Verifier` entrypoint (tests/support/product.mjs), for
 * the host `product.test`: the service binding's end-to-end tests and benchmark.
 */
export function productWorker({ keygate = "keygate" } = {}) {
  return {
    name: "product",
    routes: ["product.test/*"],
    modules: true,
    scriptPath: path.join(root, "tests/support/product.mjs"),
    compatibilityDate: COMPATIBILITY_DATE,
    serviceBindings: {
      KEYGATE: { name: keygate, entrypoint: "Verifier" },
      KEYGATE_HTTP: keygate,
    },
  };
}
