// The scale benchmark's seeder (bench/scale.mjs): a worker in the same workerd as keygate, bound
// to keygate's key objects and KV index, that delivers keys made by bench/seed_keys.rs: each
// line's `Create` call to its key object (over the object's RPC `call`, as the API does) and its
// index entry to KV. Inside workerd, so 100,000 keys take minutes, not the half hour that the
// same calls from Node through Miniflare's proxy take. Never deployed.
export default {
  async fetch(request, env) {
    const lines = (await request.text()).split("\n").filter(Boolean);
    await Promise.all(
      lines.map(async (line) => {
        const k = JSON.parse(line);
        const reply = JSON.parse(await env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName(k.object)).call(k.create));
        if (reply !== "created") throw new Error(`seeding ${k.object}: ${JSON.stringify(reply)}`);
        await env.KEY_INDEX.put(k.index, k.entry);
      }),
    );
    return new Response(null, { status: 204 });
  },
};
