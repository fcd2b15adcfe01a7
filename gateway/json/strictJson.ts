/**
 * JSON without repeated member names. JSON.parse keeps the last of two members with the same name, so
 * `{"officer": "A", "officer": "B"}` would be recorded as B while a reader of the signed bytes, or another parser,
 * could take A (RFC 8259 §4 leaves it to the implementation). Input is attacker-controlled: the text is parsed by
 * JSON.parse first, and only text JSON.parse accepted is scanned for member names, so the scanner needs to know
 * strings and nesting and nothing else. Hand-written rather than a library because it runs on every ingested NDJSON
 * row: one pass over the characters, no tree.
 */

export type JsonResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/**
 * The first member name that appears twice in one object of a valid JSON text, decoded (`"a"` and `"\u0061"` are
 * the same name); undefined when there is none.
 */
export function repeatedMemberName(text: string): string | undefined {
  // One entry per open object or array: the names seen so far in an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectingName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      for (i++; text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
      const names = open.at(-1);
      if (expectingName && names) {
        const raw = text.slice(start, i + 1);
        const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (names.has(name)) return name;
        names.add(name);
      }
      expectingName = false;
    } else if (c === OPEN_OBJECT) {
      open.push(new Set());
      expectingName = true;
    } else if (c === OPEN_ARRAY) {
      open.push(null);
      expectingName = false;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
      expectingName = false;
    } else if (c === COMMA) {
      expectingName = open.at(-1) instanceof Set;
    }
  }
  return undefined;
}

/** Parses one JSON value, refusing text with a repeated member name anywhere in it. */
export function parseJson(text: string): JsonResult<unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'is not valid JSON' };
  }
  // Only an object can repeat a name; a text without a brace holds none (most NDJSON values are objects, though).
  const repeated = typeof value === 'object' && value !== null ? repeatedMemberName(text) : undefined;
  if (repeated !== undefined) return { ok: false, reason: `has the member "${repeated.slice(0, 64)}" twice` };
  return { ok: true, value };
}

/** Parses a JSON object (not an array, not a scalar), refusing repeated member names. */
export function parseJsonObject(text: string): JsonResult<Record<string, unknown>> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) return { ok: false, reason: 'must be a JSON object' };
  return { ok: true, value: parsed.value as Record<string, unknown> };
}
