/* Reading turns stored by earlier pages, keeping chunk ids exact.
 *
 * A chunk id is a 64-bit integer. The API sends it as a string of digits (JavaScript numbers hold 53 bits,
 * so JSON.parse would round two ids of one article to one number), and the page stores it as that string.
 * Earlier pages stored it as a JSON number; parseJson reads those back as the string of their digits.
 */

const OPAQUE_KEYS = new Set(["chunk_id"]);

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

/** JSON.parse, except that every opaque id stored as a number comes back as the string of its digits. */
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
