/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, the envelope of transparency-log checkpoints and
 * witness cosignatures. Key strings follow Go's golang.org/x/mod/sumdb/note, so keys interoperate with the Go
 * tooling:
 *
 *   key ID        = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4], big-endian
 *   verifier key  = <name>+<key ID, 8 lowercase hex digits>+<base64(0x01 ‖ public key)>
 *   signer key    = PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ 32-byte seed)>
 *   signed note   = text (ending in a newline) ‖ a blank line ‖ one or more lines "— <name> <base64(key ID ‖ signature)>"
 *
 * Witness cosignatures (c2sp.org/tlog-cosignature, "cosignature/v1") are note signatures over a checkpoint with a
 * key of their own type, 0x04, so that a cosigner's key can never be mistaken for a log's:
 *
 *   key ID        = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte public key)[:4]
 *   verifier key  = <name>+<key ID>+<base64(0x04 ‖ public key)>        signer key likewise, with the seed
 *   signature     = key ID ‖ timestamp (uint64 big-endian, POSIX seconds) ‖ Ed25519 signature (64 bytes) over
 *                   "cosignature/v1\n" ‖ "time <timestamp, decimal>\n" ‖ the checkpoint's note text
 *
 * Notes arrive from other parties, so `openNote` parses strictly (valid UTF-8, no control characters but newline,
 * canonical padded base64, well-formed names, a bounded number of signatures) and accepts a note only when a known
 * key's signature verifies and no known key's signature fails.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** The signature type byte of plain Ed25519 note signatures. */
const ED25519 = 0x01;
/** The signature type byte of Ed25519 cosignature/v1 keys (C2SP tlog-cosignature, "Format"). */
const COSIGNATURE_V1 = 0x04;
type KeyType = typeof ED25519 | typeof COSIGNATURE_V1;
const ED25519_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
const TIMESTAMP_BYTES = 8;
/** C2SP tlog-cosignature: the timestamp "MUST NOT exceed 2^63 - 1". */
const MAX_COSIGNATURE_TIMESTAMP = (1n << 63n) - 1n;
/** DER wrappings of raw Ed25519 keys (RFC 8410), so node:crypto can import a raw seed or public key. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const SIGNATURE_PREFIX = '\u2014 ';
const PRIVATE_KEY_PREFIX = 'PRIVATE+KEY+';

/**
 * The most signature lines `openNote` reads. C2SP asks verifiers to accept at least 16; Go's sumdb/note stops at
 * 100. A bound matters because each line from a known key costs a signature verification.
 */
export const MAX_NOTE_SIGNATURES = 100;

/** Why a key or note was refused; stable, for callers and tests to tell the cases apart. */
export type NoteFailure =
  | 'malformed_key'
  | 'malformed_note'
  | 'too_many_signatures'
  | 'ambiguous_key'
  | 'invalid_signature'
  | 'no_verified_signature';

/** A key or note that is malformed, or a note that is not signed as required. */
export class NoteError extends Error {
  readonly reason: NoteFailure;

  constructor(reason: NoteFailure, message: string) {
    super(message);
    this.name = 'NoteError';
    this.reason = reason;
  }
}

/** Checks note signatures of one key: plain Ed25519 signatures (`parseVerifierKey`) or cosignatures (`parseCosignatureVerifierKey`). */
export interface NoteVerifier {
  readonly name: string;
  /** The uint32 key ID. */
  readonly keyId: number;
  /** Whether `signature` (the bytes after the key ID) signs `text`. */
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Buffer;
}

/** A witness's cosignature/v1 key; `cosignCheckpoint` uses it. Not a NoteSigner: it signs a different message. */
export interface CosignatureSigner {
  readonly name: string;
  readonly keyId: number;
  /** The timestamped signature (timestamp ‖ Ed25519 signature) of checkpoint note text `text` at `timestamp`. */
  cosign(text: Uint8Array, timestamp: bigint): Buffer;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes after the key ID. */
  readonly signature: Buffer;
}

export interface OpenedNote {
  /** The signed text, including its final newline. */
  readonly text: string;
  /** One entry per known key whose signatures verified. */
  readonly signatures: readonly NoteSignature[];
  /** Signatures by keys the caller did not name, kept (once each) for whoever knows those keys, e.g. witnesses. */
  readonly unverifiedSignatures: readonly NoteSignature[];
}

/** A new Ed25519 note key pair, as key strings. The signer key is a secret. */
export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  return generateKey(name, ED25519);
}

/** A new Ed25519 cosignature/v1 key pair (type 0x04), as key strings, for a witness. The signer key is a secret. */
export function generateCosignatureKey(name: string): { signerKey: string; verifierKey: string } {
  return generateKey(name, COSIGNATURE_V1);
}

export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const { name, keyId, publicKey } = parsePublicKey(verifierKey, ED25519);
  return {
    name,
    keyId,
    verify: (text, signature) => signature.length === ED25519_SIGNATURE_BYTES && verify(null, text, publicKey, signature),
  };
}

/**
 * A verifier of a witness's cosignatures, from its verifier key with type 0x04, for `openNote`; the timestamp of a
 * verified cosignature is `cosignatureTimestamp(signature)`. Go's transparency-dev/formats also takes a plain
 * Ed25519 key (type 0x01) here and converts it; this one does not, so that a configured key says what it verifies.
 */
export function parseCosignatureVerifierKey(verifierKey: string): NoteVerifier {
  const { name, keyId, publicKey } = parsePublicKey(verifierKey, COSIGNATURE_V1);
  return {
    name,
    keyId,
    verify(text, signature) {
      if (signature.length !== TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES || !isCheckpointShaped(text)) return false;
      const timestamp = Buffer.from(signature.buffer, signature.byteOffset, TIMESTAMP_BYTES).readBigUInt64BE(0);
      if (timestamp > MAX_COSIGNATURE_TIMESTAMP) return false;
      return verify(null, cosignatureMessage(text, timestamp), publicKey, signature.subarray(TIMESTAMP_BYTES));
    },
  };
}

export function parseSignerKey(signerKey: string): NoteSigner {
  const { name, keyId, privateKey } = parsePrivateKey(signerKey, ED25519);
  return { name, keyId, sign: (text) => sign(null, text, privateKey) };
}

/** A witness's cosignature/v1 signer, from its signer key with type 0x04. */
export function parseCosignatureSignerKey(signerKey: string): CosignatureSigner {
  const { name, keyId, privateKey } = parsePrivateKey(signerKey, COSIGNATURE_V1);
  return {
    name,
    keyId,
    cosign: (text, timestamp) => Buffer.concat([timestampBytes(timestamp), sign(null, cosignatureMessage(text, timestamp), privateKey)]),
  };
}

/** The signed note: `text`, which must end in a newline, then the blank line and `signer`'s signature line. */
export function signNote(text: string, signer: NoteSigner): string {
  checkName(signer.name);
  const bytes = noteTextBytes(text);
  const line = formatSignatureLine({ name: signer.name, keyId: signer.keyId, signature: signer.sign(bytes) });
  return `${text}\n${line}\n`;
}

/**
 * A witness's cosignature of a checkpoint at `timestampSeconds` (POSIX seconds): the note signature line
 * "— <name> <base64(key ID ‖ timestamp ‖ signature)>", without its final newline. `checkpointText` is the
 * checkpoint's note text (its lines, each ending in a newline, without the signatures): C2SP tlog-cosignature,
 * "Ed25519 signed message", signs the whole note body, extension lines included.
 */
export function cosignCheckpoint(checkpointText: string, signer: CosignatureSigner, timestampSeconds: number): string {
  checkName(signer.name);
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new NoteError('malformed_note', 'a cosignature timestamp is a non-negative integer number of seconds');
  }
  const bytes = noteTextBytes(checkpointText);
  if (!isCheckpointShaped(bytes)) throw new NoteError('malformed_note', 'a checkpoint has at least three lines');
  return formatSignatureLine({ name: signer.name, keyId: signer.keyId, signature: signer.cosign(bytes, BigInt(timestampSeconds)) });
}

/**
 * The timestamp (POSIX seconds) of an Ed25519 cosignature/v1 signature: the bytes after the key ID, as `openNote`
 * returns them. Meaningful only once the signature verified: the timestamp is what the witness signed.
 */
export function cosignatureTimestamp(signature: Uint8Array): bigint {
  if (signature.length !== TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES) {
    throw new NoteError('malformed_note', `an Ed25519 cosignature has ${TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES} bytes after its key ID`);
  }
  return Buffer.from(signature.buffer, signature.byteOffset, TIMESTAMP_BYTES).readBigUInt64BE(0);
}

/** "— <name> <base64(key ID ‖ signature)>", without the final newline. */
export function formatSignatureLine(signature: NoteSignature): string {
  return `${SIGNATURE_PREFIX}${signature.name} ${Buffer.concat([keyIdBytes(signature.keyId), signature.signature]).toString('base64')}`;
}

/**
 * Parses a signed note and verifies the signatures of the `verifiers`' keys (a key is its name and ID together).
 * Throws unless at least one of them signed it and every signature from them verifies; signatures by other keys
 * are returned unverified.
 */
export function openNote(note: Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const known = new Map<string, NoteVerifier>();
  for (const verifier of verifiers) {
    const key = keyLabel(verifier.name, verifier.keyId);
    if (known.has(key)) throw new NoteError('ambiguous_key', `two verifiers for key ${key}`);
    known.set(key, verifier);
  }

  const { text, signatureLines } = splitNote(note);
  // Every line is parsed before any signature is verified: a malformed note costs no verification.
  const parsedLines = signatureLines.map((line) => ({ line, parsed: parseSignatureLine(line) }));
  const textBytes = Buffer.from(text, 'utf8');
  const signatures: NoteSignature[] = [];
  const unverifiedSignatures: NoteSignature[] = [];
  const unverifiedLines = new Set<string>();
  for (const { line, parsed } of parsedLines) {
    const key = keyLabel(parsed.name, parsed.keyId);
    const verifier = known.get(key);
    if (verifier === undefined) {
      if (!unverifiedLines.has(line)) unverifiedSignatures.push(parsed);
      unverifiedLines.add(line);
      continue;
    }
    // C2SP: a failed signature from a known key SHOULD reject the whole note; it may be the sign of an attack. Unlike
    // Go's sumdb/note, a repeated line of an already verified key is verified too rather than skipped.
    if (!verifier.verify(textBytes, parsed.signature)) throw new NoteError('invalid_signature', `invalid signature for key ${key}`);
    if (!signatures.some((seen) => keyLabel(seen.name, seen.keyId) === key)) signatures.push(parsed);
  }
  if (signatures.length === 0) throw new NoteError('no_verified_signature', 'the note has no signature by a known key');
  return { text, signatures, unverifiedSignatures };
}

/**
 * Decodes canonical padded standard base64 (RFC 4648 §4), or returns undefined. Buffer.from(…, 'base64') would
 * silently skip stray characters and accept the URL-safe alphabet, so one encoded value would have many spellings.
 */
export function decodeBase64Strict(encoded: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64');
  // Unused low bits of the last character must be zero, or two spellings would decode alike.
  return decoded.toString('base64') === encoded ? decoded : undefined;
}

// Attacker-controlled input: the note's bytes, split into its text and signature lines, each checked.
function splitNote(note: Uint8Array): { text: string; signatureLines: string[] } {
  let decoded: string;
  try {
    // ignoreBOM keeps a leading U+FEFF as part of the text, so the verified bytes are exactly the received ones.
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
  } catch {
    throw new NoteError('malformed_note', 'the note is not valid UTF-8');
  }
  checkText(decoded);
  // The text keeps its final newline; the last blank line separates it from the signatures.
  const split = decoded.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('malformed_note', 'the note has no blank line before its signatures');
  const block = decoded.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw new NoteError('malformed_note', 'the signature block must be lines ending in newlines');
  const signatureLines = block.slice(0, -1).split('\n');
  if (signatureLines.length > MAX_NOTE_SIGNATURES) {
    throw new NoteError('too_many_signatures', `the note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  }
  return { text: decoded.slice(0, split + 1), signatureLines };
}

/**
 * Parses one signature line (without its newline), strictly: e.g. a line of a witness's answer (c2sp.org/tlog-witness)
 * or one kept in a store. Says nothing about whether the signature verifies.
 */
export function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) throw new NoteError('malformed_note', 'a signature line must start with an em dash and a space');
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const decoded = space < 0 ? undefined : decodeBase64Strict(rest.slice(space + 1));
  if (!isValidKeyName(name) || decoded === undefined || decoded.length <= 4) {
    throw new NoteError('malformed_note', 'a signature line must be "— <key name> <base64 of key ID and signature>"');
  }
  return { name, keyId: decoded.readUInt32BE(0), signature: decoded.subarray(4) };
}

function generateKey(name: string, type: KeyType): { signerKey: string; verifierKey: string } {
  checkName(name);
  const seed = randomBytes(ED25519_KEY_BYTES);
  const publicKey = rawPublicKey(ed25519PrivateKey(seed));
  const id = keyIdHex(name, type, publicKey);
  return {
    signerKey: `${PRIVATE_KEY_PREFIX}${name}+${id}+${encodeKey(type, seed)}`,
    verifierKey: `${name}+${id}+${encodeKey(type, publicKey)}`,
  };
}

function parsePublicKey(verifierKey: string, type: KeyType): { name: string; keyId: number; publicKey: KeyObject } {
  const { name, keyId, key } = splitKey(verifierKey, type);
  checkKeyId(name, type, keyId, key);
  return { name, keyId, publicKey: createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, key]), format: 'der', type: 'spki' }) };
}

function parsePrivateKey(signerKey: string, type: KeyType): { name: string; keyId: number; privateKey: KeyObject } {
  if (!signerKey.startsWith(PRIVATE_KEY_PREFIX)) throw new NoteError('malformed_key', 'a signer key starts with PRIVATE+KEY+');
  const { name, keyId, key: seed } = splitKey(signerKey.slice(PRIVATE_KEY_PREFIX.length), type);
  const privateKey = ed25519PrivateKey(seed);
  checkKeyId(name, type, keyId, rawPublicKey(privateKey));
  return { name, keyId, privateKey };
}

/** Splits "<name>+<hex key ID>+<base64(type ‖ 32-byte key)>" and checks each part's form and the type byte. */
function splitKey(keyString: string, type: KeyType): { name: string; keyId: number; key: Buffer } {
  const first = keyString.indexOf('+');
  const second = keyString.indexOf('+', first + 1);
  const name = keyString.slice(0, first);
  const hex = keyString.slice(first + 1, second);
  const encoded = first < 0 || second < 0 ? undefined : decodeBase64Strict(keyString.slice(second + 1));
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(hex) || encoded === undefined) {
    throw new NoteError('malformed_key', 'a note key must be "<name>+<8 lowercase hex digits>+<base64 key>"');
  }
  if (encoded.length !== 1 + ED25519_KEY_BYTES || encoded[0] !== type) {
    const what = type === ED25519 ? 'Ed25519 note keys (type 0x01' : 'Ed25519 cosignature/v1 keys (type 0x04';
    throw new NoteError('malformed_key', `only ${what}, 32 bytes) are accepted here`);
  }
  return { name, keyId: Number.parseInt(hex, 16), key: encoded.subarray(1) };
}

function checkKeyId(name: string, type: KeyType, keyId: number, publicKey: Buffer): void {
  if (keyIdHex(name, type, publicKey) !== keyId.toString(16).padStart(8, '0')) {
    throw new NoteError('malformed_key', `the key ID of ${name} does not match its name and key`);
  }
}

function keyIdHex(name: string, type: KeyType, publicKey: Buffer): string {
  return createHash('sha256').update(name, 'utf8').update(Uint8Array.of(0x0a, type)).update(publicKey).digest()
    .subarray(0, 4).toString('hex');
}

/** C2SP tlog-cosignature, "Ed25519 signed message": the header line, the timestamp line, then the note text. */
function cosignatureMessage(text: Uint8Array, timestamp: bigint): Buffer {
  return Buffer.concat([Buffer.from(`cosignature/v1\ntime ${timestamp}\n`, 'ascii'), text]);
}

function timestampBytes(timestamp: bigint): Buffer {
  const bytes = Buffer.alloc(TIMESTAMP_BYTES);
  bytes.writeBigUInt64BE(timestamp);
  return bytes;
}

/**
 * At least three newline-terminated lines (origin, size, root hash), the least a checkpoint has. Go's
 * transparency-dev/formats makes the same check before signing or verifying a cosignature; the checkpoint's fields
 * are the caller's to parse (gateway/audit/checkpoint.ts).
 */
function isCheckpointShaped(text: Uint8Array): boolean {
  return text.length > 0 && text[text.length - 1] === 0x0a && text.filter((byte) => byte === 0x0a).length >= 3;
}

function keyIdBytes(keyId: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(keyId);
  return bytes;
}

function keyLabel(name: string, keyId: number): string {
  return `${name}+${keyId.toString(16).padStart(8, '0')}`;
}

function encodeKey(type: KeyType, key: Buffer): string {
  return Buffer.concat([Uint8Array.of(type), key]).toString('base64');
}

function ed25519PrivateKey(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
}

/**
 * Key names are non-empty, without Unicode spaces or '+' (C2SP signed-note), and, since they appear in notes,
 * without control characters or unpaired surrogates.
 */
export function isValidKeyName(name: string): boolean {
  return /^[^\p{White_Space}+\u0000-\u001f\p{Cs}]+$/u.test(name);
}

/** The UTF-8 bytes of a note text to be signed, after checking it is one. */
function noteTextBytes(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.toString('utf8') !== text) throw new NoteError('malformed_note', 'the note text is not well-formed Unicode');
  checkText(text);
  if (!text.endsWith('\n')) throw new NoteError('malformed_note', 'the note text must end in a newline');
  return bytes;
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) throw new NoteError('malformed_key', 'a key name must be non-empty, without spaces, "+" or control characters');
}

/** C2SP: a signed note contains no ASCII control character but newline. */
function checkText(text: string): void {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new NoteError('malformed_note', 'the note contains a control character');
}
