// The README's Node portal snippet (its "Embed the key manager in your product"), as written, run
// against the running keygate with a team's key (only its URL is put in place of
// `http://localhost:8787`): the link it returns signs in once (`303` and the session cookie).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { newTeam, startKeygate } from "./keygate.mjs";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const work = path.join(pkg, "test/.portal-readme"); // inside the package: "@keygate/client" resolves to itself

let server;
before(async () => {
  server = await startKeygate();
  const readme = readFileSync(path.join(pkg, "../../README.md"), "utf8");
  const from = readme.indexOf("## Embed the key manager in your product\n");
  const section = readme.slice(from, readme.indexOf("\n## ", from + 1));
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 1, "the section has one Node snippet");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(path.join(work, "portal.mjs"), blocks[0].replaceAll('"http://localhost:8787"', JSON.stringify(server.baseUrl)));
});
after(() => {
  server?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("the Node portal snippet opens a link that signs in once", async () => {
  const { adminKey, team } = await newTeam(server, "readme portal");
  process.env.KEYGATE_KEY = adminKey;
  const { apiKeysLink } = await import(pathToFileURL(path.join(work, "portal.mjs")).href);
  const url = await apiKeysLink({ id: "user_42", email: "ada@example.com", name: "Ada" });
  assert.ok(url.startsWith(`${server.baseUrl}/v1/portal/kgp_${team.id}_`), url);
  const first = await fetch(url, { redirect: "manual" });
  assert.equal(first.status, 303);
  assert.equal(first.headers.get("location"), "/");
  assert.match(first.headers.get("set-cookie") ?? "", /^__Host-keygate_session=/);
  const again = await fetch(url, { redirect: "manual" });
  assert.equal(again.status, 410);
});
