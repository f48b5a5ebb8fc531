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

/** The ApiError for a response that is not ok, from its body's stable code (or its status). */
function errorFor(res, text) {
  const data = toJson(text);
  const isObject = data !== null && typeof data === "object";
  return new ApiError(isObject && typeof data.code === "string" && data.code ? data.code : codeForStatus(res.status), {
    status: res.status,
    detail: isObject && typeof data.detail === "string" ? data.detail : "",
    errors: isObject && Array.isArray(data.errors) ? data.errors.filter((e) => e && typeof e === "object") : [],
  });
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
  if (!res.ok) throw errorFor(res, text);
  const data = toJson(text);
  if (data === null || typeof data !== "object") throw new ApiError("bad_response", { status: res.status });
  return data;
}

/** Server-Sent Events in ``text``: the complete ones as [{event, data}], and the unfinished rest. */
export function parseEvents(text) {
  const blocks = text.replace(/\r\n?/g, "\n").split("\n\n");
  const rest = blocks.pop();
  const events = [];
  blocks.forEach((block) => {
    let event = "message";
    const data = [];
    block.split("\n").forEach((line) => {
      if (!line || line.startsWith(":")) return; // a comment, e.g. the server's keep-alive ping
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    });
    if (data.length) events.push({ event, data: data.join("\n") });
  });
  return { events, rest };
}

/**
 * ``POST /api/ask`` as a stream (README, "Streaming"): ``on.citations(list)`` as soon as the passages are known,
 * ``on.delta(text)`` for each piece of the answer, ``on.reset(notice)`` when the text so far is withdrawn.
 * ``history`` is the conversation's earlier questions, oldest first, so a follow-up (那手机呢？) is read with them.
 * Resolves with the answer record as the non-streamed API returns it ({…fields of "done", citations}).
 */
export async function askStream(question, filters, on = {}, history = []) {
  const body = { question, stream: true };
  if (filters) body.filters = filters;
  if (history.length) body.history = history;
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), ASK_TIMEOUT_MS);
  const failed = (e) => new ApiError(e && e.name === "AbortError" ? "timeout" : "network");
  let citations = [];
  try {
    let res;
    try {
      res = await fetch("/api/ask", {
        method: "POST",
        body: JSON.stringify(body),
        signal: controller.signal,
        headers: { Accept: "text/event-stream", "Content-Type": "application/json" },
      });
    } catch (e) {
      throw failed(e);
    }
    if (!res.ok) throw errorFor(res, await res.text().catch(() => ""));
    if (!(res.headers.get("content-type") || "").startsWith("text/event-stream") || !res.body) {
      throw new ApiError("bad_response", { status: res.status });
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw failed(e);
      }
      buffer += decoder.decode(chunk.value || new Uint8Array(), { stream: !chunk.done });
      const { events, rest } = parseEvents(chunk.done ? `${buffer}\n\n` : buffer);
      buffer = rest;
      for (const { event, data } of events) {
        const payload = toJson(data);
        if (payload === null || typeof payload !== "object") throw new ApiError("bad_response", { status: 200 });
        if (event === "citations" && Array.isArray(payload.citations)) {
          citations = payload.citations;
          if (on.citations) on.citations(citations);
        } else if (event === "delta" && typeof payload.text === "string") {
          if (on.delta) on.delta(payload.text);
        } else if (event === "reset") {
          if (on.reset) on.reset(typeof payload.notice === "string" ? payload.notice : "");
        } else if (event === "done") {
          if (typeof payload.answer !== "string") throw new ApiError("bad_response", { status: 200 });
          return { ...payload, citations };
        }
      }
      if (chunk.done) throw new ApiError("network"); // the stream ended before its "done" event
    }
  } finally {
    window.clearTimeout(timer);
  }
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
