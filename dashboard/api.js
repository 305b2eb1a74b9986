// The dashboard's one way to the API: same-origin requests that carry the session cookie
// (HttpOnly: no script ever sees it), JSON in and out, and every refusal turned into an Error
// whose message is the problem's `detail`, in words, for the page to show next to its cause.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `the service answered ${status}`);
    this.status = status;
    this.code = problem?.code || "unknown";
    this.problem = problem;
  }
}

export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, { detail: "keygate could not be reached; check your connection and try again", code: "network" });
  }
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

/** Every page of a listing (`data`, `next_cursor`). */
export async function all(path) {
  const items = [];
  let cursor = "";
  for (let i = 0; i < 100; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api("GET", `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.data);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}
