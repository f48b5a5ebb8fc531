/* Text offsets. The API counts code points (Python str indices); JavaScript strings count UTF-16 units.
 * Every offset from the API goes through cpToUtf16 so that astral characters (emoji, rare CJK) never shift
 * a highlight.
 */

/** The UTF-16 index in ``str`` of code point ``cp``. */
export function cpToUtf16(str, cp) {
  let i = 0;
  let seen = 0;
  while (i < str.length && seen < cp) {
    const c = str.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < str.length ? 2 : 1;
    seen += 1;
  }
  return i;
}

/** The length of ``str`` in code points, as Python's len() counts it. */
export function cpLength(str) {
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) i++;
    n++;
  }
  return n;
}

/** A string field of an API record or stored turn; anything else reads as "". */
export const str = (v) => (typeof v === "string" ? v : "");

/** An integer field, or ``fallback``. */
export const int = (v, fallback = -1) => (Number.isInteger(v) ? v : fallback);

/** Sorted, disjoint ranges (overlapping ones joined; touching ones kept apart, one mark per quote). */
export function mergeRanges(ranges) {
  const sorted = ranges.filter((r) => r[1] > r[0]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  sorted.forEach((r) => {
    const prev = merged[merged.length - 1];
    if (prev && r[0] < prev[1]) prev[1] = Math.max(prev[1], r[1]);
    else merged.push([r[0], r[1]]);
  });
  return merged;
}

/**
 * The citation's ``highlights`` (code-point [start, end] spans of ``text`` that the answer quotes) as
 * UTF-16 ranges of ``text``; spans that do not fit the text are left out.
 */
export function quotedRanges(text, highlights) {
  const total = cpLength(text);
  const ranges = [];
  (Array.isArray(highlights) ? highlights : []).forEach((h) => {
    if (!Array.isArray(h) || h.length !== 2) return;
    const [s, e] = h;
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e <= s || e > total) return;
    ranges.push([cpToUtf16(text, s), cpToUtf16(text, e)]);
  });
  return mergeRanges(ranges);
}
