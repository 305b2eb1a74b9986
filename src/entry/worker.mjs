// keygate's main module (wrangler.toml `main`; scripts/build.sh copies every src/entry/*.mjs into
// build/worker, this one as entry.mjs): the fetch handler and the three Durable Object classes.
//
// It decides nothing (docs/architecture.md, "The entry"; STYLE.md item 13): it moves strings and
// bytes across the wasm boundary once each way. Each request's method, URL, Content-Type and
// Content-Length (not read for a GET or HEAD) go, as one string, to Rust's synchronous `front`
// (src/entry.rs, src/http/front.rs), which
// answers everything that needs no storage at once (a constant answer by id, framed by Rust
// once per isolate, or an answer framed as `status\nName: value…\n\nbody`), or asks for the
// body's bytes, up to a bound it gives (then `front_body` decides with them), or says the full path
// is needed: the asynchronous Rust handler, `fetch`, or `fetch_with_body` when the body was
// read, or (`front_body`, once the body is read) a verification with a well-formed key, whose
// steps Rust decides one synchronous call at a time while this module makes their I/O (`steps`,
// below). `request.cf` is read only
// for a verification of a key the index holds (its country goes to the key's object) and
// otherwise in Rust only when a request needs the country (`Ctx::country`).
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
  front_body: frontBody,
  answer,
  constant,
  verify_indexed,
  verify_forget,
  verify_failed,
  fetch: full,
  fetch_with_body: fullWithBody,
} = Generated.prototype;
// What `front` answers (src/entry.rs): the full path, an answer to take, a constant answer's id
// (2 and up), the body (its declared length is within the bound: read it at once), or minus the
// most bytes of body to read (no length declared: read one byte more at most, in one read); then
// `front_body` decides with the bytes: the full path (`F`) or a step (`steps`, below).
const FULL = 0;
const ANSWER = 1;
const BODY = -1;
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

/**
 * The steps of a request whose body `front_body` read (src/entry.rs, `http::verification`): each
 * one string, a tag and its fields, one per line: an answer (`A`, framed) or a constant answer's
 * id (`C`), or, for a verification with a well-formed key, its I/O, decided in Rust one
 * synchronous call at a time and made here: read the KV index entry (`K`, then `verify_indexed`
 * names the key's object or answers) and call the key's object (`O`), whose `verify` answers the
 * framed answer itself (empty: no such key, then `verify_forget`). Bindings as in wrangler.toml
 * (`storage::edge`). `request.cf` is read only here, for a key the index holds: the country goes
 * with the object's call, for the key's locations.
 */
function steps(request, env, step) {
  return step[0] === "K" || step[0] === "O" ? verified(request, env, step) : stepAnswer(step);
}

async function verified(request, env, step) {
  try {
    const [target, hash, call] = step.split("\n");
    step = target[0] === "K" ? verify_indexed(hash, await env.KEY_INDEX.get(target.slice(1))) : target;
    if (step[0] === "O") {
      const objects = env.KEY_OBJECTS;
      const object = objects.get(objects.idFromName(step.slice(1)));
      step = (await object.verify(call, request.cf?.country)) || verify_forget(hash);
    }
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) throw e;
    step = verify_failed(step, String(e));
  }
  return stepAnswer(step);
}

/** An answer step: framed (`A`), or a constant answer's id (`C`). */
function stepAnswer(step) {
  if (step[0] === "C") return respond(Number(step.slice(1)));
  const p = parts(step.slice(1));
  return new Response(p.body, p.init);
}

async function serve(request, env, ctx) {
  // The head as one string (`Head::parse`): an absent header is empty. A GET or HEAD has no
  // body keygate reads, so its body's two headers are not read (absent to `front`, which reads
  // them only for `POST /v1/verify`).
  const method = request.method;
  let head = `${method}\n${request.url}`;
  if (method !== "GET" && method !== "HEAD") {
    const h = request.headers;
    head += `\n${h.get("Content-Type") ?? ""}\n${h.get("Content-Length") ?? ""}`;
  }
  const code = front(env, head);
  if (code < 0) {
    const bytes = await body(request, code);
    const step = frontBody(env, head, bytes);
    const answer = step === "F" ? fullWithBody(Object.defineProperty(request, "cf", NO_CF), env, bytes) : undefined;
    giveBack(bytes);
    return answer ?? steps(request, env, step);
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

/** Each object's generated instance, by the object (kept out of the instance: RPC callers see
 * only the class's methods). */
const inner = new WeakMap();

/** The generated class `Generated`, as a class the runtime offers RPC to. */
function rpcCapable(Generated) {
  return class extends DurableObject {
    constructor(ctx, env) {
      super(ctx, env);
      inner.set(this, new Generated(ctx, env));
    }

    fetch(request) {
      return inner.get(this).fetch(request);
    }

    alarm() {
      return inner.get(this).alarm();
    }

    call(json) {
      return inner.get(this).call(json);
    }
  };
}

/**
 * The key object: as `rpcCapable` makes the others, and a check answered in the call's own turn
 * when the object can (`callNow`, `verifyNow`: a loaded key; `undefined` otherwise, and the
 * asynchronous method answers). `verify` is the verification's own path (`verified` above).
 */
export class KeyObject extends rpcCapable(GeneratedKeyObject) {
  call(json) {
    const o = inner.get(this);
    return o.callNow(json) ?? o.call(json);
  }

  verify(call, country) {
    const o = inner.get(this);
    return o.verifyNow(call, country) ?? o.verify(call, country);
  }
}

export const TeamObject = rpcCapable(GeneratedTeamObject);
export const EventsObject = rpcCapable(GeneratedEventsObject);
export { Verifier } from "./verifier.mjs";
