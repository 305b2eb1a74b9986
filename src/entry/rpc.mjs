// The Durable Object classes as the runtime loads them (copied next to the generated index.js by
// scripts/build.sh, imported by edge.mjs and admin.mjs).
//
// worker-build generates index.js: the fetch handler and one class per Durable Object, each a
// thin wrapper around the Rust struct. Those classes do not extend the runtime's
// `DurableObject`, and the runtime offers RPC only to classes that do. So each object is
// exported as such a class, holding the generated one and handing it every event: `fetch` and
// `alarm` as before, and the RPC method `call` (see `objects::key`, `objects::team`), which the
// workers use instead of an HTTP request to the object (measured in bench/: the same job in
// JavaScript answers ~17% more verifications per second over RPC than over fetch).
// Nothing else lives here: every decision stays in Rust.
import { DurableObject } from "cloudflare:workers";

/** The generated class `Generated`, as a class the runtime offers RPC to. */
export function rpcCapable(Generated) {
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
