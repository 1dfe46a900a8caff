const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;

/**
 * The UTF-8 text of each object of a JSON array, as views into `json` (no copy), for a text
 * that JSON.parse has already read as an array of `count` values: a ledger storing events
 * as JSON then keeps the text it was sent instead of serializing the parsed events again.
 * Undefined when an element is not an object (the batch is refused by validation anyway).
 * Each view parses to exactly its element: JSON.parse reads a value the same wherever it
 * stands.
 */
export function arrayElements(json: Uint8Array, count: number): Uint8Array[] | undefined {
  const elements: Uint8Array[] = [];
  let at = json.indexOf(openBracket) + 1;
  while (elements.length < count) {
    // Between elements: whitespace and one comma (the text is valid JSON).
    let start = at;
    while (json[start] !== openBrace) {
      const byte = json[start];
      if (byte !== comma && byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return undefined;
      start++;
    }
    at = objectEnd(json, start);
    elements.push(json.subarray(start, at));
  }
  return elements;
}

/** The index after the object (or array) opening at `start`. */
function objectEnd(json: Uint8Array, start: number): number {
  let depth = 0;
  let at = start;
  for (;;) {
    const byte = json[at++];
    if (byte === quote) {
      // Skip the string: a backslash escapes the byte after it, `"` and `\` included.
      for (let inside = json[at++]; inside !== quote && inside !== undefined; inside = json[at++]) if (inside === backslash) at++;
    } else if (byte === openBrace || byte === openBracket) {
      depth++;
    } else if (byte === closeBrace || byte === closeBracket) {
      if (--depth === 0) return at;
    } else if (byte === undefined) {
      throw new RangeError('arrayElements: the JSON text ends inside a value');
    }
  }
}
