// The `Verifier` entrypoint (exported by src/entry/worker.mjs; copied beside it by
// scripts/build.sh): keygate's service binding. A product's Worker binds it with
//
//   [[services]]
//   binding = "KEYGATE"
//   service = "keygate"
//   entrypoint = "Verifier"
//
// and calls `await env.KEYGATE.verify({key, permissions?, project_id?})` and
// `await env.KEYGATE.rateLimit({key})` over RPC: no HTTP request, no network hop. The answers are
// the objects `POST /v1/verify` and `GET /v1/rate-limit` answer, counted the same way, because
// they come from the same Rust code (`http::rpc`, over `http::verify`). This class only carries
// the call across: the runtime offers RPC only to a class extending `WorkerEntrypoint`, and the
// input and the answer cross into the wasm as JSON text. Bad input (or, for `rateLimit`, an
// unusable key) throws an `Error` whose message is the problem's `detail`, with its `code` and
// `status`, as the endpoint would answer `4xx` problem+json. Nothing here logs; the key is never
// logged anywhere.
import { WorkerEntrypoint } from "cloudflare:workers";
import { VerifierCalls } from "./index.js";

/** The JSON text of a call's input; what is not JSON (a function, a BigInt) is `invalid_json`. */
function text(input) {
  try {
    return JSON.stringify(input) ?? "";
  } catch {
    return "";
  }
}

export class Verifier extends WorkerEntrypoint {
  #calls;

  get #rust() {
    this.#calls ??= new VerifierCalls(this.env);
    return this.#calls;
  }

  async verify(input) {
    return JSON.parse(await this.#rust.verify(text(input)));
  }

  async rateLimit(input) {
    return JSON.parse(await this.#rust.rateLimit(text(input)));
  }
}
