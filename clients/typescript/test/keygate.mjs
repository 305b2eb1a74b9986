// The keygate the tests talk to: KEYGATE_URL and KEYGATE_OPERATOR_TOKEN when set (scripts/clients.sh
// sets them), else the built worker (build/, from scripts/build.sh) served in workerd by the
// repository's tests/support/server.mjs for this test file alone.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createKeygate } from "../dist/index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

export async function startKeygate() {
  if (process.env.KEYGATE_URL) {
    return { baseUrl: process.env.KEYGATE_URL, operatorToken: process.env.KEYGATE_OPERATOR_TOKEN ?? "", stop() {} };
  }
  const operatorToken = "client-tests-operator";
  const child = spawn(process.execPath, ["tests/support/server.mjs", "--admin-token", operatorToken], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`keygate's server exited (${code}); is build/ there?`)));
  });
  return { baseUrl: line.trim(), operatorToken, stop: () => child.stdin.end() };
}

/** A new team (its admin:* key) made by the operator, so that each test file starts clean. */
export async function newTeam(server, name) {
  const operator = createKeygate({ baseUrl: server.baseUrl, token: server.operatorToken });
  const created = await operator.teams.create({ name });
  return { team: created.team, adminKey: created.api_key.key };
}

/**
 * Waits, when the UTC minute has less than 5 s left, until the next one begins: a test that spends
 * a per-minute limit must not straddle the window's boundary (keygate's windows are aligned to the
 * clock, so a request in the next minute is rightly admitted again).
 */
export async function inOneMinute() {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
