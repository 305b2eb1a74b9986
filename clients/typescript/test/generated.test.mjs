// Fails when docs/openapi.json changed and src/generated/openapi.ts was not regenerated
// (`npm run generate` in clients/typescript): the same generator, run again into a temporary
// file, must give the committed file byte for byte.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("..", import.meta.url));

test("src/generated/openapi.ts is what docs/openapi.json generates", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "keygate-ts-"));
  try {
    const out = path.join(dir, "openapi.ts");
    const script = JSON.parse(readFileSync(path.join(here, "package.json"), "utf8")).scripts.generate;
    const args = script.split(" ").slice(1);
    args[args.indexOf("-o") + 1] = out;
    execFileSync(path.join(here, "node_modules/.bin/openapi-typescript"), args, { cwd: here, stdio: "pipe" });
    const committed = readFileSync(path.join(here, "src/generated/openapi.ts"), "utf8");
    assert.ok(
      readFileSync(out, "utf8") === committed,
      "docs/openapi.json changed: run `npm run generate` in clients/typescript and commit src/generated/",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
