// Prints, as one JSON object, wrangler.toml as wrangler reads it (`wrangler`) and the Worker the
// tests serve (`miniflare`, keygate.mjs), so that tests/deploy.rs can hold them to each other.
import { unstable_readConfig } from "wrangler";
import path from "node:path";
import { keygateWorker, root } from "./keygate.mjs";

const c = unstable_readConfig({ config: path.join(root, "wrangler.toml") });
const wrangler = {
  name: c.name,
  main: c.main,
  compatibility_date: c.compatibility_date,
  vars: c.vars,
  kv_namespaces: c.kv_namespaces,
  durable_objects: c.durable_objects.bindings,
  services: c.services ?? [],
  migrations: c.migrations,
  assets: c.assets,
};
process.stdout.write(JSON.stringify({ wrangler, miniflare: keygateWorker(), root }));
