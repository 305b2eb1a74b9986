// A product's Worker verifying a key through keygate's `Verifier` entrypoint (RPC over a service
// binding) against the same verification as an HTTP request: over a plain service binding to
// keygate's fetch handler, and over the network to keygate's URL. One Miniflare holds keygate and
// the product (tests/support/product.mjs, host `product.test`); a sequential loop from here times
// each request end to end (client → product → keygate → key object and back), median of N; then
// the product's Worker times N verifications in a loop of its own (no client round trip).
//   node_modules/.bin/node bench/binding.mjs [N]     (build/worker first: sh scripts/build.sh)
import http from "node:http";
import { spawn } from "node:child_process";
import path from "node:path";
import { root } from "../tests/support/keygate.mjs";

const N = Number(process.argv[2] ?? 400);
const server = spawn(process.execPath, [path.join(root, "tests/support/server.mjs"), "--product", "--no-assets"], {
  stdio: ["pipe", "pipe", "inherit"],
});
const base = await new Promise((resolve) => server.stdout.once("data", (d) => resolve(String(d).trim())));
const { hostname, port } = new URL(base);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: p, agent, headers: { "Content-Type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const big = 1_000_000_000;
const team = await request("POST", "/v1/teams", { name: "bench", limits: { max_per_minute: big, max_per_hour: big } }, { Authorization: "Bearer test-admin-token" });
const admin = team.body.api_key.key;
const key = (await request("POST", "/v1/api-keys", { name: "b", permissions: ["tasks:read"], rate_limit: { plan: "enterprise", per_minute: big, per_hour: big } }, { Authorization: `Bearer ${admin}` })).body.key;
const input = { key, permissions: ["tasks:read"] };

async function median(p, headers = {}) {
  const times = [];
  for (let i = 0; i < N + 50; i++) {
    const s = process.hrtime.bigint();
    const r = await request("POST", p, input, { Host: "product.test", ...headers });
    const t = Number(process.hrtime.bigint() - s) / 1e6;
    if (r.status !== 200 || r.body?.ok?.valid !== true) throw new Error(`${p}: ${JSON.stringify(r.body)}`);
    if (i >= 50) times.push(t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const direct = async () => {
  const times = [];
  for (let i = 0; i < N + 50; i++) {
    const s = process.hrtime.bigint();
    const r = await request("POST", "/v1/verify", input);
    const t = Number(process.hrtime.bigint() - s) / 1e6;
    if (r.body?.valid !== true) throw new Error(JSON.stringify(r.body));
    if (i >= 50) times.push(t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
};

const rows = [];
for (let round = 0; round < 2; round++) {
  rows.push(["binding (RPC, Verifier)", await median("/verify")]);
  rows.push(["service binding, HTTP (fetch handler)", await median("/verify-fetch")]);
  rows.push(["HTTP to keygate's URL", await median("/verify-url", { "X-Keygate-Url": base })]);
  rows.push(["client → keygate directly (no product)", await direct()]);
}
// In the product's isolate: N verifications one after the other, no client round trip.
for (let round = 0; round < 3; round++) {
  for (const via of ["verify", "verify-fetch", "verify-url"]) {
    const r = await request("POST", `/loop?via=${via}&n=${N}`, input, { Host: "product.test", "X-Keygate-Url": base });
    if (!r.body?.ok) throw new Error(JSON.stringify(r.body));
    rows.push([`in-isolate loop, ${via === "verify" ? "RPC" : via}`, r.body.ok.ms_per_call]);
  }
}
console.log(`median of ${N} sequential requests, ms (two rounds):`);
for (const [name, ms] of rows) console.log(`  ${name.padEnd(42)} ${ms.toFixed(3)}`);
server.stdin.end();
agent.destroy();
