// The module the runtime loads (wrangler.toml `main`, copied to build/ by scripts/build.sh).
//
// worker-build generates build/index.js: the fetch handler and one class per Durable Object, each
// a thin wrapper around the Rust struct. Those classes do not extend the runtime's
// `DurableObject`, and the runtime offers RPC only to classes that do. So the key object is
// exported here as such a class, holding the generated one and handing it every event: `fetch`
// and `alarm` as before, and the RPC method `call` (see `objects::key`), which the worker uses on
// the verification path instead of an HTTP request to the object (measured in bench/: the same
// job in JavaScript answers ~17% more verifications per second over RPC than over fetch).
// Nothing else lives here: every decision stays in Rust.
import { DurableObject } from "cloudflare:workers";
import worker, { KeyObject as GeneratedKeyObject, TeamObject } from "./index.js";

export class KeyObject extends DurableObject {
  #inner;

  constructor(ctx, env) {
    super(ctx, env);
    this.#inner = new GeneratedKeyObject(ctx, env);
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
}

export { TeamObject };
export default worker;
