// keygate's main module (wrangler.toml `main`; scripts/build.sh copies every src/entry/*.mjs into
// build/worker, this one as entry.mjs): the fetch handler and the three Durable Object classes.
//
// It decides nothing (docs/architecture.md, "The entry"; STYLE.md item 13): it moves strings and
// bytes across the wasm boundary once each way. Each request's method, URL, Content-Type and
// Content-Length go, as one string, to Rust's synchronous `front` (src/entry.rs,
// src/http/front.rs), which
// answers everything that needs no storage at once (a constant answer by id, framed by Rust
// once per isolate, or an answer framed as `status\nName: value…\n\nbody`), or asks for the
// body's bytes, up to a bound it gives (and is called again with them), or says the full path
// is needed: the asynchronous Rust handler, `fetch`, or `fetch_with_body` when the body was
// read, or `verify` for a verification with a well-formed key (its answer framed as one
// string, like `front`'s). `request.cf` is never read here and read in Rust only when a request needs the country
// (`Ctx::country`).
//
// worker-build's generated index.js exports a default class with each wasm export on its
// prototype, behind a Proxy that re-creates the wasm instance after a fatal error. Its exports
// are taken from that prototype and called directly: no class constructed and no Proxy per
// request (measured: bench/micro.mjs). The Proxy's recovery is kept: after a
// `WebAssembly.RuntimeError` the next request constructs the generated class once, which
// re-creates the instance.
//
// The objects: worker-build's classes do not extend the runtime's `DurableObject`, and the
// runtime offers RPC only to classes that do. So each object is exported as such a class,
// holding the generated one and handing it every event: `fetch` and `alarm` as before, and the
// RPC method `call` (see `objects::key`, `objects::team`, `objects::events`), which the worker
// uses instead of an HTTP request to an object.
import { DurableObject } from "cloudflare:workers";
import Generated, {
  KeyObject as GeneratedKeyObject,
  TeamObject as GeneratedTeamObject,
  EventsObject as GeneratedEventsObject,
} from "./index.js";

const {
  front,
  answer,
  constant,
  verify,
  fetch: full,
  fetch_with_body: fullWithBody,
} = Generated.prototype;
// What `front` answers (src/entry.rs): the full path, an answer to take, a constant answer's id
// (2 to 15), the body (its declared length is within the bound: read it at once), minus the
// most bytes of body to read (no length declared: read one byte more at most, in one read), or a
// verification to make (`verify`).
const FULL = 0;
const ANSWER = 1;
const BODY = -1;
const VERIFY = 16;
const state = globalThis.__worker_init_state;

/** A framed answer from Rust (`status\nName: value…\n\nbody`) as a Response's parts. */
function parts(framed) {
  const end = framed.indexOf("\n\n");
  const lines = framed.slice(0, end).split("\n");
  // An object, not an array of pairs: measured cheaper for workerd to take (bench/micro.mjs).
  // The names are distinct (Rust sets each once).
  const headers = {};
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(": ");
    headers[lines[i].slice(0, colon)] = lines[i].slice(colon + 2);
  }
  return { body: framed.slice(end + 2), init: { status: Number(lines[0]), headers } };
}

/** The constant answers' parts, framed by Rust once per isolate (`constant`), by id. */
const constants = [];

/** A constant answer's parts, its headers as a `Headers` (measured cheaper to copy). */
function constantParts(code) {
  const p = parts(constant(code));
  p.init.headers = new Headers(p.init.headers);
  return p;
}

function respond(code) {
  const p = code === ANSWER ? parts(answer()) : (constants[code] ??= constantParts(code));
  return new Response(p.body, p.init);
}

/**
 * The buffer a read without a declared length reads into: one per isolate, lent to one read at
 * a time (the read takes it over and its answer's bytes sit in it) and given back once those
 * bytes are copied into wasm (`giveBack`). Measured: allocating the bound's 16 KiB per request
 * was a third of a streamed verification's cost.
 */
let spare = null;
let lentSize = 0;

/**
 * The body's bytes: at once (`code` is BODY: the declared length, which HTTP framing holds
 * the body to, is within the bound), or at most `-code` bytes and one more (Rust then answers
 * 413): without a declared length, one read of at least that many bytes (workerd's
 * `readAtLeast`), which comes back with fewer only when the body has ended. Measured: the
 * chunk-by-chunk loop it replaces was a quarter of a malformed verification's samples.
 */
async function body(request, code) {
  if (code === BODY || request.body === null) return new Uint8Array(await request.arrayBuffer());
  const size = 1 - code;
  const lent = spare?.byteLength === size ? spare : new Uint8Array(size);
  spare = null;
  lentSize = size;
  const reader = request.body.getReader({ mode: "byob" });
  const { value } = await reader.readAtLeast(size, lent);
  if (value === undefined) return new Uint8Array(0);
  if (value.byteLength === size) reader.cancel().catch(() => {});
  return value;
}

/** A read's buffer back for the next read, once a call has copied its bytes into wasm (an
 * export copies its arguments when it is called, before it runs). */
function giveBack(bytes) {
  if (bytes.buffer.byteLength === lentSize) spare = new Uint8Array(bytes.buffer);
}

/** `request.cf` hidden (see `Ctx::country`): converting the request reads nothing then. */
const NO_CF = { value: undefined, configurable: true };

/** A verification's framed answer (`verify`, called in the same turn as the `front` that
 * parsed its body) as a Response. */
async function verified(request, env) {
  const p = parts(await verify(Object.defineProperty(request, "cf", NO_CF), env));
  return new Response(p.body, p.init);
}

async function serve(request, env, ctx) {
  const h = request.headers;
  // The head as one string (`Head::parse`): an absent header is empty.
  const head = `${request.method}\n${request.url}\n${h.get("Content-Type") ?? ""}\n${h.get("Content-Length") ?? ""}`;
  let code = front(env, head, undefined);
  if (code < 0) {
    const bytes = await body(request, code);
    code = front(env, head, bytes);
    const answer = code === FULL ? fullWithBody(Object.defineProperty(request, "cf", NO_CF), env, bytes) : undefined;
    giveBack(bytes);
    if (answer !== undefined) return answer;
    if (code === VERIFY) return verified(request, env);
  }
  if (code === FULL) return full.call({ env, ctx }, Object.defineProperty(request, "cf", NO_CF));
  return respond(code);
}

export default {
  async fetch(request, env, ctx) {
    if (state?.criticalError) Reflect.construct(Generated, [ctx, env]);
    try {
      return await serve(request, env, ctx);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError && state) state.criticalError = true;
      throw e;
    }
  },
};

/** The generated class `Generated`, as a class the runtime offers RPC to. */
function rpcCapable(Generated) {
  return class extends DurableObject {
    #inner;

    constructor(ctx, env) {
      super(ctx, env);
      this.#inner = new Generated(ctx, env);
    }

    fetch(request) {
      return this.#inner.fetch(request);
    }

    alarm() {
      return this.#inner.alarm();
    }

    call(json) {
      return this.#inner.call(json);
    }
  };
}

export const KeyObject = rpcCapable(GeneratedKeyObject);
export const TeamObject = rpcCapable(GeneratedTeamObject);
export const EventsObject = rpcCapable(GeneratedEventsObject);
export { Verifier } from "./verifier.mjs";
