// The microbenchmark's wrapper Worker (bench/micro.mjs serves it): keygate's entry (the module
// wrangler deploys, build/worker/entry.mjs) and the JavaScript reference (bench/reference/) in
// ONE isolate, each with its Durable Object classes exported here under their own bindings, and
// the floor: what a route's I/O alone costs any Worker, with no work of its own (below).
//
// `POST /__loop` {target, n, method, path, body, chunked} runs n synthetic requests through the chosen
// Worker's own `fetch(request, env, ctx)`, reading each answer's body, and answers the last
// status and body. workerd's clock does not advance without I/O, so the caller times this call
// from outside (and subtracts an n = 0 call). `POST /seed` goes to the reference (it makes a
// key), any other request to keygate.
import keygate, { KeyObject, TeamObject, EventsObject } from "../build/worker/entry.mjs";
import reference, { KeyObject as ReferenceKeyObject } from "./reference/worker.js";
import { DurableObject } from "cloudflare:workers";

/** The floor's object: one counter, counted by one SQLite statement (an exact count of a
 * verification needs at least one durable write). */
export class FloorObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
  }

  count() {
    this.sql.exec("INSERT INTO counter (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1");
    return "";
  }
}

export { KeyObject, TeamObject, EventsObject, ReferenceKeyObject };

/**
 * The floor of each route: the request's I/O and a `Response`, nothing decided. `/healthz` a
 * constant answer; a verify body read (`text()`) and a constant answer (malformed keys); the same
 * and one KV read of a name that is not there (unknown keys); the same with one Durable Object
 * RPC to a method that counts with one SQLite statement, its id named per request as keygate's
 * and the reference's are (valid keys). Neither Worker can cost less than this on the route; what either costs above
 * it is its own.
 */
const floor = (route) => async (request, env) => {
  if (request.method === "GET") return new Response('{"status":"ok"}');
  const text = await request.text();
  if (route === "unknown") await env.INDEX.get("h:nothing-here");
  if (route === "valid") await env.FLOOR.get(env.FLOOR.idFromName("floor")).count();
  return new Response(text.length > 0 ? '{"valid":false}' : "");
};

// A default export that is a class (worker-build's generated entry) is constructed per request,
// as the runtime does; an object's `fetch` is called as it is.
const call = (w) =>
  typeof w === "function" ? (req, env, ctx) => new w(ctx, env).fetch(req) : (req, env, ctx) => w.fetch(req, env, ctx);
const workers = { keygate: call(keygate), reference: call(reference) };

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__loop") {
      const { target, n, method, path, body, chunked, route } = await request.json();
      const worker = target === "floor" ? floor(route) : workers[target];
      // A body's length declared, as an HTTP client sending JSON declares it (curl, fetch,
      // wrk), unless the route is `chunked` (a streamed body, no length).
      const headers = { "Content-Type": "application/json" };
      if (body !== undefined && !chunked) headers["Content-Length"] = String(new TextEncoder().encode(body).byteLength);
      const init = method === "GET" ? { method } : { method, headers, body };
      const href = `http://bench.local${path}`;
      let status = 0;
      let text = "";
      for (let i = 0; i < n; i++) {
        const r = await worker(new Request(href, init), env, ctx);
        status = r.status;
        text = await r.text();
      }
      return Response.json({ status, body: text });
    }
    const w = url.pathname === "/seed" ? workers.reference : workers.keygate;
    return w(request, env, ctx);
  },
};
