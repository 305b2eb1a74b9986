// keygate's main module (wrangler.toml `main`, copied to build/worker/entry.mjs by
// scripts/build.sh): the generated fetch handler and the three Durable Object classes, each made
// RPC-capable.
//
// worker-build generates index.js: the fetch handler and one class per Durable Object, each a
// thin wrapper around the Rust struct. Those classes do not extend the runtime's
// `DurableObject`, and the runtime offers RPC only to classes that do. So each object is
// exported as such a class, holding the generated one and handing it every event: `fetch` and
// `alarm` as before, and the RPC method `call` (see `objects::key`, `objects::team`,
// `objects::events`), which the worker and the objects use instead of an HTTP request to an
// object (measured in bench/: the same job in JavaScript answers ~17% more verifications per
// second over RPC than over fetch). Nothing else lives here: every decision stays in Rust.
import { DurableObject } from "cloudflare:workers";
import worker, {
  KeyObject as GeneratedKeyObject,
  TeamObject as GeneratedTeamObject,
  EventsObject as GeneratedEventsObject,
} from "./index.js";

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
export default worker;
export { Verifier } from "./verifier.mjs";
