/* DOM helpers. The page's safety rule: every piece of text from the user, the API or localStorage goes in
 * through textContent / createTextNode. Nothing uses innerHTML, insertAdjacentHTML or document.write, and
 * links only ever get http(s) URLs.
 */

export const $ = (id) => document.getElementById(id);

/** An element with an optional class and text (always via textContent). */
export function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** The URL if it is http(s), else null: no javascript:, data: or relative surprises. */
export function safeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const u = new URL(url, window.location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

export const reduceMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

/** Append ``text`` to ``parent`` with the UTF-16 ``ranges`` (sorted, disjoint) wrapped in ``makeMark()``. */
export function appendMarked(parent, text, ranges, makeMark) {
  let at = 0;
  ranges.forEach(([s, e]) => {
    if (s < at || e > text.length) return;
    if (s > at) parent.append(document.createTextNode(text.slice(at, s)));
    const mark = makeMark();
    mark.textContent = text.slice(s, e);
    parent.append(mark);
    at = e;
  });
  if (at < text.length) parent.append(document.createTextNode(text.slice(at)));
}

/** Restart a CSS animation class on ``node``. */
export function flash(node, cls = "flash") {
  node.classList.remove(cls);
  void node.offsetWidth;
  node.classList.add(cls);
}

/** Say ``text`` through a polite live region outside the conversation (a short summary for screen readers). */
export function announce(text) {
  let live = document.getElementById("announcer");
  if (!live) {
    live = el("div", "visually-hidden");
    live.id = "announcer";
    live.setAttribute("aria-live", "polite");
    document.body.append(live);
  }
  live.textContent = "";
  window.setTimeout(() => {
    live.textContent = text;
  }, 50);
}
