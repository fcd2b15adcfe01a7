/**
 * The audit log's proofs checked with WebCrypto alone, for the portal's browser: a checkpoint's C2SP signed-note
 * signature (Ed25519), an inclusion proof (RFC 9162 §2.1.3.2) and a consistency proof (RFC 9162 §2.1.4.2). No Node
 * API is used, so the portal bundles this very file; test/crypto/webProofs.test.ts runs it against the gateway's own
 * log and proofs so that the two cannot drift. Everything passed in comes from the network: lengths are checked
 * before anything is hashed.
 */
const encoder = new TextEncoder();
const HASH_SIZE = 32;

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', joined));
}

export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
}

/** RFC 6962 leaf hash: SHA-256(0x00 || entry). */
export function leafHashOf(entry: Uint8Array): Promise<Uint8Array> {
  return sha256(new Uint8Array([0]), entry);
}

function nodeHashOf(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(new Uint8Array([1]), left, right);
}

/** Constant time in the contents: the comparison does not stop at the first differing byte. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

// Sizes and indexes stay below 2^53, past the reach of JavaScript's 32-bit shift operators: halve arithmetically.
const half = (n: number) => Math.floor(n / 2);
const odd = (n: number) => n % 2 === 1;

function isPowerOfTwo(n: number): boolean {
  let m = n;
  while (m > 1) {
    if (odd(m)) return false;
    m = half(m);
  }
  return m === 1;
}

export async function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): Promise<boolean> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (leafHash.length !== HASH_SIZE || root.length !== HASH_SIZE || proof.some((hash) => hash.length !== HASH_SIZE)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = await nodeHashOf(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = await nodeHashOf(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(r, root);
}

export async function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): Promise<boolean> {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size1 > size2) return false;
  if (root1.length !== HASH_SIZE || root2.length !== HASH_SIZE || proof.some((hash) => hash.length !== HASH_SIZE)) return false;
  if (size1 === size2) return proof.length === 0 && same(root1, root2);
  const path = [...proof];
  // A first tree that is a perfect subtree of the second is its own first node.
  if (isPowerOfTwo(size1)) path.unshift(root1);
  if (path.length === 0) return false;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = await nodeHashOf(c, fr);
      sr = await nodeHashOf(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = await nodeHashOf(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(fr, root1) && same(sr, root2);
}

export interface VerifiedCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/**
 * Opens a C2SP signed note with the log's verifier key (`<name>+<hex key hash>+<base64(0x01 || Ed25519 key)>`) and
 * parses the checkpoint in it. Returns undefined unless a signature line of that key verifies over the note text.
 */
export async function openCheckpoint(note: string, verifierKey: string): Promise<VerifiedCheckpoint | undefined> {
  // The key is standard base64 and may itself contain "+": split on the first two only.
  const match = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(verifierKey.trim());
  if (!match) return undefined;
  const [, name, keyHashHex, keyBase64] = match as unknown as [string, string, string, string];
  const keyBytes = fromBase64(keyBase64);
  if (keyBytes.length !== 33 || keyBytes[0] !== 1) return undefined;
  const publicKey = keyBytes.slice(1);
  const keyHash = (await sha256(encoder.encode(`${name}\n`), keyBytes)).slice(0, 4);
  if ([...keyHash].map((byte) => byte.toString(16).padStart(2, '0')).join('') !== keyHashHex) return undefined;
  const split = note.indexOf('\n\n');
  if (split < 0) return undefined;
  const text = note.slice(0, split + 1);
  const key = await globalThis.crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  let verified = false;
  for (const line of note.slice(split + 2).split('\n')) {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const signature = fromBase64(match[2]!);
    if (signature.length !== 4 + 64 || !same(signature.slice(0, 4), keyHash)) continue;
    if (await globalThis.crypto.subtle.verify({ name: 'Ed25519' }, key, signature.slice(4), encoder.encode(text))) verified = true;
  }
  if (!verified) return undefined;
  const [origin, sizeText, rootText] = text.split('\n');
  if (!origin || !sizeText || !/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !rootText) return undefined;
  const rootHash = fromBase64(rootText);
  const size = Number(sizeText);
  if (rootHash.length !== HASH_SIZE || !Number.isSafeInteger(size)) return undefined;
  return { origin, size, rootHash };
}
