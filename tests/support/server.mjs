// Serves the built worker (build/) in workerd through Miniflare, with real KV and real
// SQLite-backed Durable Objects, on a free loopback port. Prints the URL on its first line, then
// runs until its standard input closes (so it never outlives the test process that started it).
//
//   node tests/support/server.mjs [--persist DIR] [--admin-token TOKEN] [--key-prefix sk]
//                                 [--reference] [--no-assets] [--without ADMIN_TOKEN,…]
//                                 [--secure-webhooks]
// `--reference` also serves the benchmark's JavaScript reference worker (bench/reference/) in the
// same process, for requests to the host `reference.bench` (keygate answers every other host).
// `--product` also serves a product's Worker bound to keygate's `Verifier` entrypoint
// (tests/support/product.mjs), for requests to the host `product.test`.
// `--no-assets` serves keygate without its static assets (see keygate.mjs: the benchmark's way).
// `--without NAMES` serves it without these secrets (comma-separated: a deployment that forgot them),
// or without KEY_INDEX, its KV binding.
// `--secure-webhooks` keeps production's webhook URL rule (https:// and public hosts only).
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import path from "node:path";
import { keygateWorker, productWorker, root } from "./keygate.mjs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);

const persist = args.persist; // undefined: in memory, gone when the process exits
const keyPrefix = args["key-prefix"] ?? "sk";
const keygate = keygateWorker({
  keyPrefix,
  adminToken: args["admin-token"] ?? "test-admin-token",
  assets: !("no-assets" in args),
  without: (args.without ?? "").split(",").filter(Boolean),
  // The tests' webhook receivers listen on 127.0.0.1 over plain HTTP. GITHUB_SCANNING_KEYS (from
  // the environment) pins GitHub's secret scanning keys to a pair a test made (tests/leaks.rs).
  extraBindings: {
    ALLOW_INSECURE_WEBHOOKS: "secure-webhooks" in args ? "false" : "true",
    ...(process.env.GITHUB_SCANNING_KEYS ? { GITHUB_SCANNING_KEYS: process.env.GITHUB_SCANNING_KEYS } : {}),
    // IDLE_DAY_MS shortens the idle policy's day for tests/idle_keys.rs (its own server).
    ...(process.env.IDLE_DAY_MS ? { IDLE_DAY_MS: process.env.IDLE_DAY_MS } : {}),
  },
});
const reference = {
  name: "reference",
  routes: ["reference.bench/*"],
  modules: true,
  scriptPath: path.join(root, "bench/reference/worker.js"),
  compatibilityDate: "2026-10-01",
  bindings: { KEY_PREFIX: keyPrefix },
  kvNamespaces: ["INDEX"],
  durableObjects: { KEYS: { className: "KeyObject", useSQLite: true } },
};
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: Number(args.port ?? 0),
    cf: false,
    // Miniflare 5: one folder for all local state (KV, Durable Objects). Absent: in memory.
    ...(persist ? { resourcePersistencePath: persist } : {}),
    workers: [
      keygate,
      ...("reference" in args ? [reference] : []),
      ...("product" in args ? [productWorker()] : []),
    ],
  }),
);

const url = await mf.ready;
process.stdout.write(`${url.href.replace(/\/$/, "")}\n`);

const stop = async () => {
  try {
    await mf.dispose();
  } finally {
    process.exit(0);
  }
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
