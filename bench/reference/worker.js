// The benchmark's anchor: keygate's verification job written by hand in JavaScript, as a
// careful team would write it for Workers today. It is not a straw man:
// - the same key format and CRC-32 checksum, so a malformed key costs no storage call;
// - SHA-256 of the key with WebCrypto, a KV read of `h:<hex>`, and a per-isolate cache of the
//   index entries already read (as keygate keeps one);
// - one Durable Object call, over RPC (cheaper than fetch), to a SQLite-backed object that checks
//   the hash, status, expiry and permissions, then counts two fixed windows aligned to the UTC
//   clock (minute, hour) exactly, in one synchronous transaction; the write is durable before
//   the answer leaves (the output gate), without an explicit await.
// `POST /seed` (bench only) makes a key: `{"key", "permissions", "per_minute", "per_hour"}`.
import { DurableObject } from "cloudflare:workers";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
const encoder = new TextEncoder();

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function base62(n, width) {
  let s = "";
  for (let i = 0; i < width; i++) {
    s = BASE62[n % 62] + s;
    n = Math.floor(n / 62);
  }
  return s;
}

/** `{prefix}_{live|test}_{32 base62}{6 base62 CRC-32 of everything before}`. */
function wellFormed(key, prefix) {
  const head = `${prefix}_`;
  if (!key.startsWith(head)) return false;
  const rest = key.slice(head.length);
  const env = rest.startsWith("live_") ? "live_" : rest.startsWith("test_") ? "test_" : null;
  if (!env) return false;
  const body = rest.slice(env.length);
  if (body.length !== 38) return false;
  for (const ch of body) if (!BASE62.includes(ch)) return false;
  const checked = key.slice(0, key.length - 6);
  return base62(crc32(encoder.encode(checked)), 6) === key.slice(-6);
}

async function sha256hex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

const indexCache = new Map();

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    if (url.pathname === "/seed" && request.method === "POST") {
      const { key, permissions, per_minute, per_hour } = await request.json();
      const hash = await sha256hex(key);
      const id = `key_${hash.slice(0, 20)}`;
      await env.KEYS.get(env.KEYS.idFromName(id)).create(hash, permissions, per_minute, per_hour);
      await env.INDEX.put(`h:${hash}`, id);
      return Response.json({ id });
    }
    if (url.pathname !== "/v1/verify" || request.method !== "POST") {
      return Response.json({ code: "not_found" }, { status: 404 });
    }
    let body;
    try {
      body = await request.json();
    } catch {
      return Response.json({ code: "invalid_json" }, { status: 400 });
    }
    if (typeof body?.key !== "string") return Response.json({ code: "invalid_field" }, { status: 400 });
    if (!wellFormed(body.key, env.KEY_PREFIX)) return Response.json({ valid: false, code: "malformed_key" });
    const hash = await sha256hex(body.key);
    let id = indexCache.get(hash);
    if (id === undefined) {
      id = await env.INDEX.get(`h:${hash}`);
      if (id === null) return Response.json({ valid: false, code: "invalid_key" });
      indexCache.set(hash, id);
    }
    const result = await env.KEYS.get(env.KEYS.idFromName(id)).check(hash, body.permissions ?? []);
    if (result.code === "invalid_key") indexCache.delete(hash);
    return Response.json(result);
  },
};

export class KeyObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS key (id INTEGER PRIMARY KEY CHECK (id = 1),
      hash TEXT NOT NULL, permissions TEXT NOT NULL, per_minute INTEGER NOT NULL,
      per_hour INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, expires_at INTEGER)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS windows (name TEXT PRIMARY KEY,
      start INTEGER NOT NULL, count INTEGER NOT NULL)`);
  }

  create(hash, permissions, perMinute, perHour) {
    this.sql.exec(
      "INSERT OR REPLACE INTO key (id, hash, permissions, per_minute, per_hour) VALUES (1, ?, ?, ?, ?)",
      hash, JSON.stringify(permissions), perMinute, perHour,
    );
  }

  check(hash, wanted) {
    const key = this.sql.exec("SELECT * FROM key").toArray()[0];
    if (!key || key.hash !== hash) return { valid: false, code: "invalid_key" };
    const now = Date.now();
    if (key.disabled) return { valid: false, code: "disabled_key" };
    if (key.expires_at !== null && key.expires_at <= now) return { valid: false, code: "expired_key" };
    const held = JSON.parse(key.permissions);
    const covers = (w) =>
      held.some((h) => h === "admin:*" || h === w || (h.endsWith(":*") && w.startsWith(h.slice(0, -1))));
    if (!wanted.every(covers)) return { valid: false, code: "insufficient_permissions" };
    const windows = [
      ["minute", 60_000, key.per_minute],
      ["hour", 3_600_000, key.per_hour],
    ].map(([name, span, limit]) => {
      const start = now - (now % span);
      const row = this.sql.exec("SELECT start, count FROM windows WHERE name = ?", name).toArray()[0];
      const count = row && row.start === start ? row.count : 0;
      return { name, start, limit, count, reset: Math.floor((start + span) / 1000) };
    });
    if (windows.some((w) => w.count >= w.limit)) return { valid: false, code: "rate_limited" };
    for (const w of windows) {
      this.sql.exec("INSERT OR REPLACE INTO windows (name, start, count) VALUES (?, ?, ?)", w.name, w.start, w.count + 1);
    }
    const tight = windows.reduce((a, b) => (b.limit - b.count < a.limit - a.count ? b : a));
    return {
      valid: true,
      code: "valid",
      permissions: held,
      rate_limit: { limit: tight.limit, remaining: tight.limit - tight.count - 1, reset: tight.reset },
    };
  }
}
