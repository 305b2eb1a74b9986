// keygate's worker as Miniflare serves it (build/, real KV, SQLite-backed Durable Objects): one
// definition for the test server (server.mjs) and the scale benchmark (bench/scale.mjs).
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function keygateWorker({ keyPrefix = "sk", adminToken = "test-admin-token" } = {}) {
  return {
    name: "keygate",
    modulesRoot: path.join(root, "build"),
    modules: [
      { type: "ESModule", path: path.join(root, "build/entry.mjs") },
      { type: "ESModule", path: path.join(root, "build/index.js") },
      { type: "CompiledWasm", path: path.join(root, "build/index_bg.wasm") },
    ],
    compatibilityDate: "2026-10-01",
    bindings: { KEY_PREFIX: keyPrefix, ADMIN_TOKEN: adminToken },
    kvNamespaces: ["KEY_INDEX"],
    durableObjects: {
      KEY_OBJECTS: { className: "KeyObject", useSQLite: true },
      TEAM_OBJECTS: { className: "TeamObject", useSQLite: true },
    },
  };
}
