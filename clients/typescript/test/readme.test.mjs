// The README's TypeScript and Hono snippets (its "Use keygate from your code"), as written, type-checked by tsc
// against this package and run against the running keygate (only its URL and operator token are
// put in place of `http://localhost:8787` and `dev-admin-token`).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createKeygate, createVerifier } from "../dist/index.js";
import { newTeam, startKeygate } from "./keygate.mjs";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const work = path.join(pkg, "test/.readme"); // inside the package: "@keygate/client" resolves to itself

let server;
before(async () => {
  server = await startKeygate();
  const readme = readFileSync(path.join(pkg, "../../README.md"), "utf8");
  const from = readme.indexOf("## Use keygate from your code\n");
  const section = readme.slice(from, readme.indexOf("\n## ", from + 1));
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 2, "the README has a TypeScript and a Hono snippet");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const local = (s) => s.replaceAll('"http://localhost:8787"', JSON.stringify(server.baseUrl)).replaceAll('"dev-admin-token"', JSON.stringify(server.operatorToken));
  writeFileSync(path.join(work, "flow.ts"), local(blocks[0]));
  writeFileSync(path.join(work, "hono.ts"), local(blocks[1]));
  const config = JSON.parse(readFileSync(path.join(pkg, "tsconfig.json"), "utf8"));
  config.compilerOptions = { ...config.compilerOptions, rootDir: ".", outDir: "out", declaration: false };
  config.include = ["*.ts"];
  writeFileSync(path.join(work, "tsconfig.json"), JSON.stringify(config));
  execFileSync(process.execPath, [path.join(pkg, "node_modules/typescript/bin/tsc"), "-p", work], { stdio: "inherit" });
});
after(() => {
  server?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("the TypeScript snippet runs the README flow", () => {
  const out = execFileSync(process.execPath, [path.join(work, "out/flow.js")], { encoding: "utf8" }).split("\n");
  assert.equal(out[0], "true valid");
  for (const line of out.slice(1, 3)) assert.match(line, /^sk_live_\S+ active$/);
  assert.deepEqual(out.slice(3, 5), ["disabled_key", "404 not_found"]);
  assert.match(out[5], /^\d+$/);
});

test("the Hono snippet admits a key with tasks:read through the binding, and refuses without", async () => {
  const app = (await import(pathToFileURL(path.join(work, "out/hono.js")).href)).default;
  const env = { KEYGATE: createVerifier({ baseUrl: server.baseUrl }) };
  const { adminKey, team } = await newTeam(server, "readme hono");
  const key = await createKeygate({ baseUrl: server.baseUrl, token: adminKey }).keys.create({ name: "r", permissions: ["tasks:read"] });
  const ok = await app.fetch(new Request("http://product.test/tasks", { headers: { "X-API-Key": key.key } }), env);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { team: team.id, tasks: [] });
  assert.equal(ok.headers.get("X-RateLimit-Remaining"), "99");
  const refused = await app.fetch(new Request("http://product.test/tasks"), env);
  assert.equal(refused.status, 401);
});
