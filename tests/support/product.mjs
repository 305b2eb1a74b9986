// A product's Worker, as the tests and the benchmark run it beside keygate (server.mjs
// `--product`, requests to the host `product.test`): it binds keygate's `Verifier` entrypoint as
// a product would (`[[services]] binding = "KEYGATE", service = "keygate", entrypoint =
// "Verifier"`) and hands each request's JSON body to a call:
//   POST /verify       env.KEYGATE.verify(body)        (RPC over the service binding)
//   POST /rate-limit   env.KEYGATE.rateLimit(body)
//   POST /verify-fetch the same verification as an HTTP request over a plain service binding to
//                      keygate's fetch handler (no network, but a request and JSON text)
//   POST /verify-url   the same over the network, to the URL in the `X-Keygate-Url` header
//   POST /loop?via=verify|verify-fetch|verify-url&n=N  N of those verifications one after the
//                      other inside this Worker, answering {"ok": {"ms_per_call"}} (the benchmark:
//                      no client round trip in the figure; workerd's clock advances across awaits)
// It answers `{"ok": answer}` or, when the call throws, `{"error": {name, message, code, status}}`.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const path = url.pathname;
    const body = await request.text();
    const http = async (fetcher, base) => {
      const res = await fetcher(`${base}/v1/verify`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
      return res.json();
    };
    try {
      let answer;
      if (path === "/loop") {
        const via = url.searchParams.get("via");
        const n = Number(url.searchParams.get("n") ?? 100);
        const one = {
          verify: () => env.KEYGATE.verify(JSON.parse(body)),
          "verify-fetch": () => http((u, i) => env.KEYGATE_HTTP.fetch(u, i), "http://keygate"),
          "verify-url": () => http(fetch, request.headers.get("X-Keygate-Url")),
        }[via];
        const start = Date.now();
        for (let i = 0; i < n; i++) {
          const v = await one();
          if (v.valid !== true) throw new Error(`not valid: ${v.code}`);
        }
        return Response.json({ ok: { ms_per_call: (Date.now() - start) / n } });
      }
      if (path === "/verify") answer = await env.KEYGATE.verify(JSON.parse(body));
      else if (path === "/rate-limit") answer = await env.KEYGATE.rateLimit(JSON.parse(body));
      else if (path === "/verify-fetch") answer = await http((u, i) => env.KEYGATE_HTTP.fetch(u, i), "http://keygate");
      else if (path === "/verify-url") answer = await http(fetch, request.headers.get("X-Keygate-Url"));
      else return new Response(null, { status: 404 });
      return Response.json({ ok: answer });
    } catch (e) {
      return Response.json({
        error: { name: e?.name, message: e?.message, code: e?.code, status: e?.status },
      });
    }
  },
};
