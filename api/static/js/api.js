/* The server's JSON API: requests with a timeout, and errors that carry the server's stable codes.
 *
 * Every error body is {code, detail, errors?: [{loc, code, msg, ctx}]}. The page maps the codes to its own
 * sentences (i18n.js) and never reads the English in ``detail`` or ``msg``.
 */

export const ASK_TIMEOUT_MS = 120000;
const DEFAULT_TIMEOUT_MS = 30000;

/**
 * A failed request. ``code`` is the server's top-level code (invalid_request, body_too_large, not_found,
 * no_index, index_incompatible, internal, …) or one of the page's own: network, timeout, bad_response.
 */
export class ApiError extends Error {
  constructor(code, { status = 0, detail = "", errors = [] } = {}) {
    super(detail || code);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.detail = detail;
    this.errors = errors;
  }
}

/** Used only when an error body has no code (e.g. a proxy's own error page in front of the server). */
function codeForStatus(status) {
  if (status === 422) return "invalid_request";
  if (status === 413) return "body_too_large";
  if (status === 404) return "not_found";
  return status >= 500 ? "internal" : "http_error";
}

/** The body as JSON (chunk ids arrive as strings, so they stay exact), or undefined when it is not JSON. */
function toJson(text) {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export async function request(path, { method = "GET", body, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), timeoutMs);
  let res;
  let text;
  try {
    res = await fetch(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      headers: { Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    });
    text = await res.text();
  } catch (e) {
    throw new ApiError(e && e.name === "AbortError" ? "timeout" : "network");
  } finally {
    window.clearTimeout(timer);
  }
  const data = toJson(text);
  if (!res.ok) {
    const isObject = data !== null && typeof data === "object";
    throw new ApiError(isObject && typeof data.code === "string" && data.code ? data.code : codeForStatus(res.status), {
      status: res.status,
      detail: isObject && typeof data.detail === "string" ? data.detail : "",
      errors: isObject && Array.isArray(data.errors) ? data.errors.filter((e) => e && typeof e === "object") : [],
    });
  }
  if (data === null || typeof data !== "object") throw new ApiError("bad_response", { status: res.status });
  return data;
}

/** ``POST /api/ask``: the answer record, as the server sent it. */
export async function ask(question, filters) {
  const body = { question };
  if (filters) body.filters = filters;
  const answer = await request("/api/ask", { method: "POST", body, timeoutMs: ASK_TIMEOUT_MS });
  if (typeof answer.answer !== "string" || !Array.isArray(answer.citations)) {
    throw new ApiError("bad_response", { status: 200 });
  }
  return answer;
}

/** ``GET /api/config``: {max_query_chars, max_top_k, modes, examples: {zh, en}}. */
export function getConfig() {
  return request("/api/config", { timeoutMs: 15000 });
}

/** ``GET /api/stats``: {manifest, counts, accounts, backend, model}. */
export function getStats() {
  return request("/api/stats", { timeoutMs: 15000 });
}

/** ``GET /api/articles/{aid}``: {aid, title, url, date, account, text, source, content_hash}. */
export function getArticle(aid) {
  return request(`/api/articles/${encodeURIComponent(aid)}`);
}
