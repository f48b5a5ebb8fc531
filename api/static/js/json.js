/* JSON in and out, keeping chunk ids exact.
 *
 * A chunk id is a 64-bit integer. JavaScript numbers hold 53 bits, so JSON.parse would round two ids of
 * the same article to one number. The page never does arithmetic on an id: it keeps the digits the server
 * sent, as a string, and writes them back as the same JSON number when it stores a turn.
 */

const OPAQUE_KEYS = new Set(["chunk_id"]);
const DIGITS = /^-?(?:0|[1-9]\d*)$/;

/** Whether JSON.parse hands revivers the source text of each value (Chromium 114+, Firefox 135+, Safari 18.4+). */
const PARSE_HAS_SOURCE = (() => {
  try {
    let seen = false;
    JSON.parse("[1]", (key, value, context) => {
      if (context && context.source === "1") seen = true;
      return value;
    });
    return seen;
  } catch {
    return false;
  }
})();

const HAS_RAW_JSON = typeof JSON.rawJSON === "function";

/** JSON.parse, except that every opaque id number comes back as the string of its digits. */
export function parseJson(text) {
  if (PARSE_HAS_SOURCE) {
    return JSON.parse(text, (key, value, context) =>
      OPAQUE_KEYS.has(key) && typeof value === "number" && context && typeof context.source === "string"
        ? context.source
        : value,
    );
  }
  // Older engines: quote the id numbers before parsing. Inside a JSON string every quote is escaped (\"),
  // so text that merely mentions "chunk_id" never matches.
  return JSON.parse(text.replace(/"chunk_id"(\s*):(\s*)(-?\d+)/g, '"chunk_id"$1:$2"$3"'));
}

/** JSON.stringify, writing opaque ids held as digit strings back as the JSON numbers they were. */
export function stringifyJson(value) {
  return JSON.stringify(value, (key, v) =>
    HAS_RAW_JSON && OPAQUE_KEYS.has(key) && typeof v === "string" && DIGITS.test(v) ? JSON.rawJSON(v) : v,
  );
}
