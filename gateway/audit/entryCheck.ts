/**
 * Reading a stored audit entry back as a verifier must: the bytes are the hashed record, so they are checked to be
 * exactly what `entryBytes` would write for the value they hold — valid UTF-8, one JSON object, safe integers only,
 * in RFC 8785 canonical form. Anything else (a byte order mark, extra whitespace, a duplicated member, a number
 * another parser would round) means the entry was not written by the log.
 */
import canonicalize from 'canonicalize';

export type EntryReading =
  | { readonly entry: Readonly<Record<string, unknown>> }
  | { readonly problem: string };

/** The entry's members, or why its bytes are not a canonical entry. */
export function readEntryBytes(bytes: Uint8Array): EntryReading {
  let text: string;
  try {
    // ignoreBOM keeps a leading U+FEFF in the text, so that the comparison below refuses it.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { problem: 'is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'is not a JSON object' };
  const unsafe = firstUnsafeNumber(value);
  if (unsafe !== undefined) return { problem: `holds the number ${unsafe}, not a safe integer` };
  let canonical: string | undefined;
  try {
    canonical = canonicalize(value);
  } catch {
    return { problem: 'cannot be canonicalised (a lone surrogate?)' };
  }
  // JSON.parse keeps the last of duplicated members, so an entry with duplicates fails here too.
  if (canonical !== text) return { problem: 'is not in RFC 8785 canonical form' };
  return { entry: value as Readonly<Record<string, unknown>> };
}

function firstUnsafeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? undefined : value;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    const unsafe = firstUnsafeNumber(item);
    if (unsafe !== undefined) return unsafe;
  }
  return undefined;
}
