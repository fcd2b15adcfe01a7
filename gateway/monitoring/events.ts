/**
 * Monitoring events as banks receive them: alerts and consent endings. An event's claims are written to the outbox
 * when it happens; it is signed (a `gateway-alert+jwt` JWS for its bank) and given its `alert.raised` audit entry
 * the first time it is about to leave — pushed or pulled — and the JWS is stored, so every retry and every pull sends
 * the same bytes. Fail closed: an event whose audit entry cannot be written is not sent.
 */
import type { AuditLog, JsonValue } from '../audit/index.js';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { Answer, QuestionRef, Severity } from '../policies/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { GatewaySigner } from '../signing/signer.js';
import type { Coordination, MonitorStore, OutboxEvent } from '../store/index.js';

/** The claims of an alert: which question changed how, never a record value. */
export interface AlertClaims {
  readonly type: 'alert';
  readonly event_id: string;
  readonly subscription_id: string;
  readonly consent_id: string;
  readonly subject: { readonly uscc: string };
  readonly rule: string;
  readonly severity: Severity;
  readonly question: { readonly id: string; readonly version: number; readonly definition_hash: string };
  readonly old_answer: Answer;
  readonly new_answer: Answer;
  /** The newest as-of date of the records behind the new answer; absent when it is unknown. */
  readonly data_as_of?: string;
  /** Present, and true, while an objection to the records behind the new answer is open (docs/objections.md). */
  readonly disputed?: true;
  readonly raised_at: string;
}

/** The claims telling a bank that a subscription ended because its consent did. */
export interface ConsentEndedClaims {
  readonly type: 'consent.revoked' | 'consent.expired';
  readonly event_id: string;
  readonly subscription_id: string;
  readonly consent_id: string;
  readonly subject: { readonly uscc: string };
  /** revoked, replaced, expired or exhausted. */
  readonly reason: string;
  readonly raised_at: string;
}

/** One answer a bank was given that a correction changed (docs/objections.md). */
export interface CorrectedAnswer {
  readonly question: { readonly id: string; readonly version: number; readonly definition_hash: string };
  /** The audit entry of the answer the bank was given. */
  readonly answered_audit_index: number;
  readonly old_answer: Answer;
  readonly new_answer: Answer;
  /** The newest as-of date of the records behind the new answer; absent when it is unknown. */
  readonly data_as_of?: string;
}

/** The claims telling a bank that answers it was given about a subject were corrected after an objection. */
export interface AnswerCorrectedClaims {
  readonly type: 'answer.corrected';
  readonly event_id: string;
  readonly objection_id: string;
  readonly subject: { readonly uscc: string };
  readonly corrections: readonly CorrectedAnswer[];
  /** The `answer.corrected` audit entry that records the corrected answers. */
  readonly corrected_audit_index: number;
  /** The batch whose records corrected them. */
  readonly batch_id: string;
  readonly raised_at: string;
}

export type EventClaims = AlertClaims | ConsentEndedClaims | AnswerCorrectedClaims;

/** What an event's `alert.raised` entry says beyond its envelope: never a record value. */
function eventDetails(claims: EventClaims): Record<string, JsonValue> {
  switch (claims.type) {
    case 'alert':
      return {
        subscription_id: claims.subscription_id, rule: claims.rule, severity: claims.severity, question: claims.question.id,
        old_answer: claims.old_answer, new_answer: claims.new_answer, ...(claims.disputed ? { disputed: true } : {}),
      };
    case 'answer.corrected':
      return {
        objection_id: claims.objection_id, corrected_audit_index: claims.corrected_audit_index,
        questions: claims.corrections.map((correction) => correction.question.id),
      };
    default:
      return { subscription_id: claims.subscription_id, reason: claims.reason };
  }
}

export function questionClaim(ref: QuestionRef): AlertClaims['question'] {
  return { id: ref.id, version: ref.version, definition_hash: ref.definitionHash };
}

export interface EventSigner {
  /** The event's JWS, signing and auditing it first if it has none yet. */
  signed(event: OutboxEvent): Promise<string>;
}

export function createEventSigner(deps: { store: MonitorStore & Coordination; signer: GatewaySigner; audit: AuditLog }): EventSigner {
  return {
    async signed(event) {
      if (event.jws) return event.jws;
      // One signature per event even when a delivery and a pull reach it at the same moment, on any instance.
      return deps.store.exclusive([`event:${event.eventId}`], async () => {
        const current = await deps.store.getEvent(event.eventId);
        if (!current) throw new GatewayError('not_found', 'no such event');
        if (current.jws) return current.jws;
        const claims = JSON.parse(current.content) as EventClaims;
        // jti is the event id: the receiver's deduplication key, the same as the webhook-id header.
        const jws = await deps.signer.sign(SIGNED_TYPES.alert, current.bankId, { ...claims, jti: current.eventId });
        const appended = await deps.audit.append({
          kind: 'alert.raised',
          actor: 'gateway',
          subject: claims.subject.uscc,
          consentId: claims.type === 'answer.corrected' ? undefined : claims.consent_id,
          details: { bank: current.bankId, event_id: current.eventId, type: claims.type, ...eventDetails(claims), alert_sha256: sha256Hex(jws) },
        });
        await deps.store.markEventSigned(current.eventId, jws, appended.index);
        // Another process may have signed it first; the stored JWS is the one that is sent.
        return (await deps.store.getEvent(current.eventId))?.jws ?? jws;
      });
    },
  };
}
