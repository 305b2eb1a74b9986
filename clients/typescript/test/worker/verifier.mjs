// A stand-in for keygate's `Verifier` entrypoint until it lands: a real WorkerEntrypoint whose
// verify() answers what the running keygate's POST /v1/verify answers (its URL in KEYGATE_URL).
// TODO(Verifier entrypoint): bind the product to keygate's own entrypoint instead.
import { WorkerEntrypoint } from "cloudflare:workers";

export class Verifier extends WorkerEntrypoint {
  async verify(input) {
    const res = await fetch(`${this.env.KEYGATE_URL}/v1/verify`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(input),
    });
    if (!res.ok) throw new Error(`keygate answered ${res.status}`);
    return res.json();
  }
}

export default { fetch: () => new Response(null, { status: 404 }) };
