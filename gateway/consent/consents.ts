/**
 * Consents: an enterprise's signed authorization for one bank, one lending purpose, named questions, a bounded
 * time and optionally a bounded number of answers. The state machine (docs/consent.md):
 *
 *   active ──enterprise revokes──► revoked
 *   active ──the operator revokes it, or revokes its enterprise──► revoked
 *   active ──enterprise grants one that `replaces` it──► replaced
 *   active ──the last allowed answer is given──► exhausted
 *   active ──exp passes──► expired            (derived from the clock, never stored)
 *   active ◄──enterprise suspended / resumed──► suspended   (derived from the enterprise's status, never stored)
 *
 * Every other state is final. A consent is the USCC's, whichever of its enterprise participants (one at a time; a
 * re-enrolled one replaces the last) signed it. Each grant (with or without `replaces`) and each revocation is an audit entry written
 * before the change is made; changes to one consent, and answers under it, are serialised by a per-consent lock, so
 * a revocation and a verification racing each other are ordered: the answer is given before the revocation is
 * recorded, or it is refused.
 */
import { sha256Base64url } from '../crypto/jws.js';
import type { AuditLog } from '../audit/index.js';
import type { ConsentPurpose } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import type { Principal } from '../identity/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { SignedType } from '../signing/signer.js';
import type { ConsentRecord, ConsentStore, Coordination, IdentityStore, StoredAuditEntry } from '../store/index.js';
import { checkCertificate, parseConsent } from './artefact.js';
import type { ParsedConsent } from './artefact.js';
import type { Purpose } from '../policies/definition.js';
import { cursorOf, seqOf } from '../store/cursor.js';

export type ConsentState = 'active' | 'revoked' | 'expired' | 'exhausted' | 'replaced' | 'suspended';

/** What the catalog must answer for a consent to be checked. */
export interface ConsentQuestions {
  /** Question ids for the given ids and pack names; throws question_unknown for a name that is neither. */
  resolve(names: readonly string[]): string[];
  allowsPurpose(questionId: string, purpose: Purpose): boolean;
}

export interface ConsentView {
  readonly consent_id: string;
  readonly state: ConsentState;
  readonly enterprise: string;
  readonly uscc: string;
  readonly bank: string;
  readonly purpose: string;
  readonly questions: readonly string[];
  readonly not_before: string;
  readonly expires_at: string;
  readonly max_uses: number | null;
  readonly uses: number;
  readonly replaces: string | null;
  readonly replaced_by: string | null;
  readonly granted_at: string;
  readonly ended_at: string | null;
  readonly artefact_sha256: string;
  readonly audit_index: number;
}

export interface ConsentSigner {
  sign(typ: SignedType, audience: string, claims: Readonly<Record<string, unknown>>): Promise<string>;
}

export interface ConsentDependencies {
  readonly store: ConsentStore & IdentityStore & Coordination;
  readonly audit: AuditLog;
  readonly questions: ConsentQuestions;
  readonly maxDays: Readonly<Record<ConsentPurpose, number>>;
  readonly signer: ConsentSigner;
  readonly nowSeconds: () => number;
  /** The platform CA, for the same check `gateway consent verify` makes. */
  readonly caCertificatePem: string;
  readonly clockSkewSeconds: number;
  /**
   * Called inside the consent's lock right after it stops being active by revocation or replacement (monitoring ends
   * its subscriptions and tells the bank). A throw is reported to the caller; the state change stands.
   */
  readonly onConsentEnded?: ((consent: ConsentRecord, reason: 'revoked' | 'replaced') => Promise<void>) | undefined;
}

export interface ConsentPage {
  readonly consents: ConsentView[];
  readonly nextCursor: string | null;
}

export interface ConsentService {
  grant(principal: Principal, token: string): Promise<{ consent: ConsentView; receipt: string }>;
  list(principal: Principal, cursor: string | undefined, limit: number): Promise<ConsentPage>;
  /** The consent if the principal may see it; the same not_found whether it does not exist or is someone else's. */
  get(principal: Principal, consentId: string): Promise<ConsentView>;
  /** The enterprise-signed JWS exactly as submitted, to the same principals as get(). */
  artefact(principal: Principal, consentId: string): Promise<string>;
  /** The stored artefact for the operator (`gateway consent export`), whoever it concerns. */
  exportArtefact(consentId: string): Promise<string>;
  revoke(principal: Principal, consentId: string): Promise<{ consent: ConsentView; receipt: string }>;
  /** The operator ends one consent (`gateway consent revoke --by-operator`), audited with the reason. */
  revokeByOperator(consentId: string, reason: string): Promise<ConsentView>;
  /** Ends every active consent about the USCC (its enterprise was revoked), each audited; returns them. */
  revokeAllAbout(uscc: string, reason: string): Promise<ConsentView[]>;
  accesses(principal: Principal, consentId: string): Promise<{ consent: ConsentView; entries: StoredAuditEntry[] }>;
  /** Runs `work` while no other change to the consent can happen (verifications, issue 6). */
  exclusive<T>(consentId: string, work: () => Promise<T>): Promise<T>;
  stateOf(consent: ConsentRecord): Promise<ConsentState>;
}

const DAY_SECONDS = 86_400;
const MAX_ACCESS_ENTRIES = 10_000;


function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}


export function createConsentService(deps: ConsentDependencies): ConsentService {
  // Keyed in the store, so a change on one instance is ordered against answers on every other.
  const lock = {
    run: <T>(consentId: string, work: () => Promise<T>) => deps.store.exclusive([`consent:${consentId}`], work),
    runAll: <T>(consentIds: readonly string[], work: () => Promise<T>) => deps.store.exclusive(consentIds.map((id) => `consent:${id}`), work),
  };
  const notFound = () => new GatewayError('not_found', 'no such consent');

  async function stateOf(consent: ConsentRecord): Promise<ConsentState> {
    if (consent.state !== 'active') return consent.state;
    if (consent.expiresAt <= deps.nowSeconds()) return 'expired';
    // The enterprise's status, read each time: a suspension pauses its consents at once, a resumption resumes them.
    // No enterprise acting for the USCC any more means it was revoked: its consents are ended (revokeAllAbout), and
    // one whose row a crash left active is revoked all the same.
    const enterprise = await deps.store.enterpriseForUscc(consent.uscc);
    if (!enterprise) return 'revoked';
    return enterprise.status === 'suspended' ? 'suspended' : 'active';
  }

  /** Ends an active consent on the operator's word: audited first, then stored, then the bank's subscriptions end. */
  async function endByOperator(consentId: string, reason: string): Promise<ConsentView | undefined> {
    return lock.run(consentId, async () => {
      const consent = await deps.store.getConsent(consentId);
      if (!consent || consent.state !== 'active') return undefined;
      await deps.audit.append({
        kind: 'consent.revoked',
        actor: 'operator',
        subject: consent.uscc,
        consentId,
        details: { bank: consent.bankId, reason },
      });
      if (!await deps.store.endConsent(consentId, 'revoked', iso(deps.nowSeconds()))) return undefined;
      const ended = await deps.store.getConsent(consentId) as ConsentRecord;
      await deps.onConsentEnded?.(ended, 'revoked');
      return view(ended);
    });
  }

  async function view(consent: ConsentRecord): Promise<ConsentView> {
    return {
      consent_id: consent.consentId, state: await stateOf(consent), enterprise: consent.enterpriseId, uscc: consent.uscc,
      bank: consent.bankId, purpose: consent.purpose, questions: consent.questions, not_before: iso(consent.notBefore),
      expires_at: iso(consent.expiresAt), max_uses: consent.maxUses ?? null, uses: consent.uses, replaces: consent.replaces ?? null,
      replaced_by: consent.replacedBy ?? null, granted_at: consent.grantedAt, ended_at: consent.endedAt ?? null,
      artefact_sha256: consent.artefactSha256, audit_index: consent.auditIndex,
    };
  }

  /** Enterprises see consents about their USCC, banks those addressed to them; nobody else sees any. */
  function visible(principal: Principal, consent: ConsentRecord | undefined): ConsentRecord {
    if (!consent) throw notFound();
    if (principal.role === 'enterprise' && consent.uscc === principal.uscc) return consent;
    if (principal.role === 'bank' && consent.bankId === principal.participantId) return consent;
    throw notFound();
  }

  async function checkGrant(principal: Principal, parsed: ParsedConsent) {
    const { claims } = parsed;
    // Exactly what an auditor will check offline (`gateway consent verify`): the gateway accepts no consent that
    // check would refuse.
    checkCertificate(parsed, deps.caCertificatePem);
    if (claims.iat > deps.nowSeconds() + deps.clockSkewSeconds) throw new GatewayError('consent_malformed', 'the consent was signed in the future (iat)');
    // Signed by the enterprise named in it: its registered certificate, and that enterprise is the one submitting.
    const issuer = await deps.store.getParticipant(claims.iss);
    if (!issuer || issuer.role !== 'enterprise' || issuer.certificateSha256 !== parsed.certificateSha256 || claims.iss !== principal.participantId) {
      throw new GatewayError('consent_signature_invalid', 'the consent must be signed with the registered certificate of the enterprise submitting it');
    }
    if (issuer.status !== 'active') throw new GatewayError('consent_signature_invalid', 'the issuing enterprise is not active');
    if (claims.sub !== issuer.uscc) throw new GatewayError('consent_subject_mismatch', 'an enterprise may consent only for its own USCC');
    const bank = await deps.store.getParticipant(claims.aud);
    if (!bank || bank.role !== 'bank' || bank.status !== 'active') {
      throw new GatewayError('consent_bank_unavailable', 'the consent must be addressed to an active bank participant');
    }
    const questions = deps.questions.resolve(claims.questions);
    const refused = questions.filter((question) => !deps.questions.allowsPurpose(question, claims.purpose));
    if (refused.length > 0) throw new GatewayError('purpose_not_allowed', `not allowed for ${claims.purpose}: ${refused.join(', ')}`);
    const now = deps.nowSeconds();
    if (claims.exp <= now || claims.exp <= claims.nbf) throw new GatewayError('consent_expired', 'the consent\'s exp has passed (or is not after nbf)');
    const maxSeconds = deps.maxDays[claims.purpose] * DAY_SECONDS;
    if (claims.exp - claims.nbf > maxSeconds || claims.exp - now > maxSeconds) {
      throw new GatewayError('consent_too_long', `a ${claims.purpose} consent may last at most ${deps.maxDays[claims.purpose]} days`);
    }
    if (await deps.store.getConsent(claims.jti)) throw new GatewayError('consent_duplicate', 'a consent with this id already exists');
    if (claims.replaces !== undefined) {
      const replaced = await deps.store.getConsent(claims.replaces);
      if (!replaced || replaced.uscc !== claims.sub || (await stateOf(replaced)) !== 'active') {
        throw new GatewayError('consent_replaces_invalid', '"replaces" must name an active consent of the same enterprise');
      }
    }
    return { claims, questions };
  }

  return {
    stateOf,
    exclusive: (consentId, work) => lock.run(consentId, work),

    async grant(principal, token) {
      const parsed = await parseConsent(token);
      const { claims } = parsed;
      // A consent it replaces must be this enterprise's before its lock is taken: someone else's is not waited for.
      if (claims.replaces !== undefined && (claims.sub !== principal.uscc || (await deps.store.getConsent(claims.replaces))?.uscc !== principal.uscc)) {
        throw new GatewayError('consent_replaces_invalid', '"replaces" must name an active consent of the same enterprise');
      }
      const keys = claims.replaces === undefined ? [claims.jti] : [claims.jti, claims.replaces];
      return lock.runAll(keys, async () => {
        const { questions } = await checkGrant(principal, parsed);
        const artefactSha256 = sha256Base64url(token);
        const appended = await deps.audit.append({
          kind: 'consent.granted',
          actor: principal.participantId,
          subject: claims.sub,
          consentId: claims.jti,
          details: {
            bank: claims.aud, purpose: claims.purpose, questions, not_before: claims.nbf, expires_at: claims.exp,
            ...(claims.max_uses === undefined ? {} : { max_uses: claims.max_uses }),
            ...(claims.replaces === undefined ? {} : { replaces: claims.replaces }),
            artefact_sha256: artefactSha256, request_sha256: principal.requestSha256,
          },
        });
        await deps.store.addConsent({
          consentId: claims.jti, enterpriseId: claims.iss, uscc: claims.sub, bankId: claims.aud, purpose: claims.purpose, questions,
          notBefore: claims.nbf, expiresAt: claims.exp, maxUses: claims.max_uses, replaces: claims.replaces, artefact: token,
          artefactSha256, grantedAt: iso(deps.nowSeconds()), auditIndex: appended.index,
        }, true);
        if (claims.replaces !== undefined) await deps.onConsentEnded?.(await deps.store.getConsent(claims.replaces) as ConsentRecord, 'replaced');
        const consent = await view(await deps.store.getConsent(claims.jti) as ConsentRecord);
        const receipt = await deps.signer.sign(SIGNED_TYPES.consentReceipt, principal.participantId, {
          consent_id: claims.jti, artefact_sha256: artefactSha256, audit_index: appended.index, state: consent.state,
          ...(claims.replaces === undefined ? {} : { replaces: claims.replaces }),
        });
        return { consent, receipt };
      });
    },

    async list(principal, cursor, limit) {
      if (principal.role !== 'enterprise' && principal.role !== 'bank') return { consents: [], nextCursor: null };
      const scope = principal.role === 'enterprise' ? { uscc: principal.uscc as string } : { bankId: principal.participantId };
      const rows = await deps.store.listConsents(scope, seqOf(cursor), limit);
      const last = rows.at(-1);
      return { consents: await Promise.all(rows.map(view)), nextCursor: rows.length === limit && last ? cursorOf(last.seq) : null };
    },

    get: async (principal, consentId) => view(visible(principal, await deps.store.getConsent(consentId))),
    artefact: async (principal, consentId) => visible(principal, await deps.store.getConsent(consentId)).artefact,
    async exportArtefact(consentId) {
      const consent = await deps.store.getConsent(consentId);
      if (!consent) throw notFound();
      return consent.artefact;
    },

    async revoke(principal, consentId) {
      // Whose consent it is, first and without waiting: a guessed id of someone else's is neither waited for nor delayed.
      visible(principal, await deps.store.getConsent(consentId));
      if (principal.role !== 'enterprise') throw notFound();
      return lock.run(consentId, async () => {
        const consent = await deps.store.getConsent(consentId) as ConsentRecord;
        const state = await stateOf(consent);
        if (state !== 'active') throw new GatewayError('consent_not_active', `the consent is ${state}; only an active consent can be revoked`);
        const appended = await deps.audit.append({
          kind: 'consent.revoked',
          actor: principal.participantId,
          subject: consent.uscc,
          consentId,
          details: { bank: consent.bankId, request_sha256: principal.requestSha256 },
        });
        if (!await deps.store.endConsent(consentId, 'revoked', iso(deps.nowSeconds()))) {
          throw new GatewayError('consent_not_active', 'the consent ended while it was being revoked');
        }
        const ended = await deps.store.getConsent(consentId) as ConsentRecord;
        await deps.onConsentEnded?.(ended, 'revoked');
        const revoked = await view(ended);
        const receipt = await deps.signer.sign(SIGNED_TYPES.consentReceipt, principal.participantId, {
          consent_id: consentId, artefact_sha256: consent.artefactSha256, audit_index: appended.index, state: 'revoked',
        });
        return { consent: revoked, receipt };
      });
    },

    async revokeByOperator(consentId, reason) {
      const consent = await deps.store.getConsent(consentId);
      if (!consent) throw notFound();
      const state = await stateOf(consent);
      if (consent.state !== 'active' || state === 'expired') {
        throw new GatewayError('consent_not_active', `the consent is ${state}; only an active (or suspended) consent can be revoked`);
      }
      const ended = await endByOperator(consentId, reason);
      if (!ended) throw new GatewayError('consent_not_active', 'the consent ended while it was being revoked');
      return ended;
    },

    async revokeAllAbout(uscc, reason) {
      const ended: ConsentView[] = [];
      let after = 0;
      for (;;) {
        const page = await deps.store.listConsents({ uscc }, after, 500);
        for (const consent of page) {
          if (consent.state !== 'active') continue;
          const view = await endByOperator(consent.consentId, reason);
          if (view) ended.push(view);
        }
        if (page.length < 500) return ended;
        after = (page.at(-1) as ConsentRecord).seq;
      }
    },

    async accesses(principal, consentId) {
      const consent = visible(principal, await deps.store.getConsent(consentId));
      if (principal.role !== 'enterprise') throw notFound();
      const entries = await deps.audit.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, consentId, limit: MAX_ACCESS_ENTRIES });
      await deps.audit.append({
        kind: 'consent.accesses_read',
        actor: principal.participantId,
        subject: consent.uscc,
        consentId,
        details: { entries: entries.length, request_sha256: principal.requestSha256 },
      });
      return { consent: await view(consent), entries };
    },
  };
}
