/**
 * What goes into the audit log: one entry per security-relevant event, as RFC 8785 canonical JSON (JCS), so that
 * the bytes that are hashed are the same whoever re-serialises the entry. Entries never carry record values: who
 * did what, about which subject, under which consent, and hashes of what was signed.
 */
import canonicalize from 'canonicalize';
import { GatewayError } from '../errors/index.js';

/** The closed set of event kinds. */
export const AUDIT_KINDS = [
  'ingest.batch',
  'participant.added',
  'participant.status_changed',
  'enrolment.code_issued',
  'enrolment.redeemed',
  'signing_key.rotated',
  'data_key.rotated',
  'consent.granted',
  'consent.revoked',
  'consent.accesses_read',
  'verification.answered',
  'verification.refused',
  'verification.unmatched',
  'verification.signed',
  'audit.read',
  'subscription.created',
  'subscription.ended',
  'alert.raised',
  'alert.replayed',
  'webhook.configured',
  'report.generated',
  'report.refused',
  'report.signed',
  'objection.raised',
  'objection.confirmed',
  'objection.corrected',
  'objection.overdue',
  'answer.corrected',
  'misuse.flagged',
  'support.eligibility_given',
  'support.counts_read',
  'scorecard.submitted',
  'scorecard.refused',
  'scorecard.approved',
  'scorecard.rejected',
  'score.answered',
  'score.refused',
  'score.unmatched',
  'score.signed',
  'scorecard.backtested',
  'uplink.acknowledged',
  'uplink.dead_lettered',
  'uplink.replayed',
  'retention.purged',
  'retention.key_destroyed',
] as const;

export type AuditKind = (typeof AUDIT_KINDS)[number];

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface AuditEvent {
  readonly kind: AuditKind;
  /** Who acted: a participant id, "operator" (the CLI on the host) or "gateway". */
  readonly actor: string;
  /** The enterprise (USCC) or person (keyed hash) the event is about, when there is one. */
  readonly subject?: string | undefined;
  readonly consentId?: string | undefined;
  /** Event-specific members; never record values. */
  readonly details: Readonly<Record<string, JsonValue>>;
}

/** Version of the entry format, inside every entry. */
export const ENTRY_VERSION = 1;

function checkJson(value: JsonValue, where: string): void {
  // In a u-mode regex a paired surrogate is one code point, so \p{Cs} matches only lone halves.
  if (typeof value === 'string' && /\p{Cs}/u.test(value)) {
    throw new GatewayError('internal_error', `audit entry member ${where} is not well-formed Unicode`);
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    // JCS serialises numbers as doubles; integers beyond 2^53 and fractions would not survive another parser.
    throw new GatewayError('internal_error', `audit entry member ${where} must be a safe integer`);
  }
  if (Array.isArray(value)) value.forEach((item, index) => checkJson(item as JsonValue, `${where}[${index}]`));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      checkJson(key, `${where} member name`);
      checkJson(item as JsonValue, `${where}.${key}`);
    }
  }
}

/** The canonical bytes of an entry recorded at `recordedAt`. */
/** Members every entry has; event details may not use these names. */
const ENVELOPE = new Set(['v', 'kind', 'at', 'actor', 'subject', 'consent_id']);

export function entryBytes(event: AuditEvent, recordedAt: string): Buffer {
  const clash = Object.keys(event.details).find((key) => ENVELOPE.has(key));
  if (clash) throw new GatewayError('internal_error', `audit entry detail "${clash}" would shadow an entry member`);
  const entry: Record<string, JsonValue> = {
    ...event.details,
    v: ENTRY_VERSION,
    kind: event.kind,
    at: recordedAt,
    actor: event.actor,
    ...(event.subject === undefined ? {} : { subject: event.subject }),
    ...(event.consentId === undefined ? {} : { consent_id: event.consentId }),
  };
  checkJson(entry, 'entry');
  if (!hasIndexLikeKey(entry)) return Buffer.from(JSON.stringify(sortedKeys(entry)), 'utf8');
  const text = canonicalize(entry);
  if (text === undefined) throw new GatewayError('internal_error', 'an audit entry could not be canonicalised');
  return Buffer.from(text, 'utf8');
}

/** JavaScript objects list integer-like keys ("9", "10") first and in numeric order, whatever the insertion order. */
function hasIndexLikeKey(value: JsonValue): boolean {
  if (Array.isArray(value)) return value.some((item) => hasIndexLikeKey(item as JsonValue));
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, item]) => /^(0|[1-9]\d*)$/.test(key) || hasIndexLikeKey(item as JsonValue));
}

/**
 * RFC 8785 for the values checkJson admits: with only safe integers, well-formed strings, booleans and null, JCS is
 * ECMAScript's JSON.stringify with object members sorted by UTF-16 code units (JavaScript's default string order).
 * About twice as fast as the general canonicalize, which the tests compare it with, and which handles the one case
 * it cannot: integer-like member names.
 */
function sortedKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map((item) => sortedKeys(item as JsonValue));
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, JsonValue> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortedKeys((value as Record<string, JsonValue>)[key] as JsonValue);
  return sorted;
}
