/** Test helper: sample rows for the storage contract suites, valid for every engine. */
import type {
  BatchMetadata, NewConsent, NewOutboxEvent, NewSubscription, ParticipantRecord, ParticipantRole, SealedRecord, Store, WebhookRecord,
} from '../../gateway/store/index.js';

export const DATASET = 'water_accounts';
export const USCC = '91350100M000100Y43';

/** A 16-byte blind index made from a readable label. */
export function blindIndex(label: string): Buffer {
  return Buffer.from(label.padEnd(16, '.').slice(0, 16), 'utf8');
}

export function participant(participantId: string, role: ParticipantRole, overrides: Partial<ParticipantRecord> = {}): ParticipantRecord {
  return {
    participantId, role, name: participantId, uscc: undefined, datasets: [], status: 'active', certificatePem: `pem of ${participantId}`,
    certificateSha256: `sha256-of-${participantId}`, notAfter: '2027-01-01T00:00:00.000Z', createdAt: '2026-11-25T00:00:00.000Z',
    statusChangedAt: '2026-11-25T00:00:00.000Z', ...overrides,
  };
}

export function enterprise(participantId: string, uscc = USCC, overrides: Partial<ParticipantRecord> = {}): ParticipantRecord {
  return participant(participantId, 'enterprise', { uscc, ...overrides });
}

export function consent(consentId: string, overrides: Partial<NewConsent> = {}): NewConsent {
  return {
    consentId, enterpriseId: 'ent-1', uscc: USCC, bankId: 'bank-1', purpose: 'credit_assessment', questions: ['medical_arrears_now'],
    notBefore: 1_700_000_000, expiresAt: 4_000_000_000, maxUses: undefined, replaces: undefined, artefact: `artefact of ${consentId}`,
    artefactSha256: `sha256-of-${consentId}`, grantedAt: '2026-11-25T00:00:00.000Z', auditIndex: 1, ...overrides,
  };
}

export function subscription(subscriptionId: string, overrides: Partial<NewSubscription> = {}): NewSubscription {
  return {
    subscriptionId, bankId: 'bank-1', consentId: `consent-of-${subscriptionId}`, uscc: USCC, subjectIndex: blindIndex('subject-A'),
    rules: ['arrears_started'], createdAt: '2026-11-26T00:00:00.000Z', auditIndex: 1, ...overrides,
  };
}

/** An event created at `createdAt`: pending, and due from then (its creation time in Unix ms). */
export function outboxEvent(eventId: string, overrides: Partial<NewOutboxEvent> = {}): NewOutboxEvent {
  return {
    eventId, bankId: 'bank-1', type: 'alert', subscriptionId: undefined, content: JSON.stringify({ event: eventId }),
    createdAt: '2026-11-26T00:00:00.000Z', ...overrides,
  };
}

export function webhook(participantId: string, overrides: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    participantId, url: `https://${participantId}.example/hook`, secret: `sealed secret of ${participantId}`,
    createdAt: '2026-11-25T00:00:00.000Z', updatedAt: '2026-11-25T00:00:00.000Z', ...overrides,
  };
}

export function batchMetadata(batchId: string, contentHash: string, asOf: string, rowCount: number): BatchMetadata {
  return { batchId, dataset: DATASET, source: 'contract', contentHash, format: 'ndjson', rowCount, asOf, receivedAt: '2026-11-25T00:00:00.000Z' };
}

/** Records of one subject, one per key, row numbers from 1; each sealed as `<tag>:<key>`. */
export function sealedRecords(tag: string, keys: readonly string[], subject = 'subject-A'): SealedRecord[] {
  return keys.map((key, offset) => ({ rowNumber: offset + 1, keyIndex: blindIndex(key), subjectIndex: blindIndex(subject), sealed: Buffer.from(`${tag}:${key}`) }));
}

/** The sealed bytes, as text, of a subject's records. */
export async function sealedTexts(store: Store, subject = 'subject-A', includeHistory = false): Promise<string[]> {
  return (await store.recordsBySubject(DATASET, blindIndex(subject), { includeHistory })).map((record) => Buffer.from(record.sealed).toString());
}

/** A promise the test settles when it chooses: for holding a callback open inside a transaction. */
export function gate(): { readonly opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Lets everything already scheduled run (timers included) before the test goes on. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}
