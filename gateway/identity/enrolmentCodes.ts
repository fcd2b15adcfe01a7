/**
 * Enrolment with a one-time code (docs/portal.md): the operator issues a code bound to one enterprise (USCC and
 * name) that expires and is used once; the enterprise's browser makes its own key pair and redeems the code with a
 * proof of possession, a JWS signed by the new key over the code, carrying the public key. The gateway issues the
 * certificate for that key and never sees the private one. Redeeming for a USCC that already has an enterprise
 * participant is re-enrolment: the old one is revoked.
 */
import { randomHex } from '../crypto/index.js';
import { decodeJwsHeader, JwsError, REQUEST_ALGORITHMS, sha256Base64url, verifyWithEmbeddedKey } from '../crypto/jws.js';
import { GatewayError } from '../errors/index.js';
import { isValidUscc } from '../identifiers/index.js';
import type { AuditLog } from '../audit/index.js';
import type { EnrolmentCodeRecord, IdentityStore, EnrolmentStore, ParticipantRecord } from '../store/index.js';
import type { ParticipantRegistry } from './participants.js';
import { ENROLMENT_TYPE, MAX_REQUEST_LIFETIME_SECONDS } from './protocol.js';

const DEFAULT_HOURS = 72;
const MAX_HOURS = 30 * 24;
const CERTIFICATE_DAYS = 365;
const MAX_NAME_LENGTH = 64;

export interface IssuedCode {
  readonly codeId: string;
  /** Shown once: only its hash is kept. */
  readonly code: string;
  readonly uscc: string;
  readonly name: string;
  readonly expiresAt: string;
}

export interface EnrolmentCodes {
  issue(request: { uscc: string; name: string; hours?: number | undefined }, issuedBy: string): Promise<IssuedCode>;
  /** Checks the proof, uses the code, registers the enterprise and returns it with its certificate. */
  redeem(proof: string): Promise<ParticipantRecord>;
  list(): Promise<EnrolmentCodeRecord[]>;
}

export interface EnrolmentDependencies {
  readonly store: EnrolmentStore & IdentityStore;
  readonly participants: ParticipantRegistry;
  readonly audit: AuditLog;
  readonly gatewayId: string;
  readonly clockSkewSeconds: number;
  readonly now?: () => Date;
}

interface ProofClaims {
  readonly aud: string;
  readonly code: string;
  readonly iat: number;
  readonly exp: number;
}

function invalidProof(message: string): GatewayError {
  return new GatewayError('enrolment_proof_invalid', message);
}

/** Four groups of four hex digits: easy to read out over the phone, 64 bits, and only good once and for days. */
function newCode(): string {
  return randomHex(8).toUpperCase().match(/.{4}/g)!.join('-');
}

/** The code as typed: case and separators do not matter. */
function normalise(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase().match(/.{1,4}/g)?.join('-') ?? '';
}

function parseClaims(payload: Uint8Array): ProofClaims {
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw invalidProof('the proof payload is not JSON');
  }
  const c = claims as Partial<ProofClaims> | null;
  if (!c || typeof c !== 'object' || typeof c.aud !== 'string' || typeof c.code !== 'string' || c.code.length > 64
    || !Number.isInteger(c.iat) || !Number.isInteger(c.exp)) {
    throw invalidProof('the proof payload must be {"aud", "code", "iat", "exp"}');
  }
  return c as ProofClaims;
}

export function createEnrolmentCodes(deps: EnrolmentDependencies): EnrolmentCodes {
  const now = deps.now ?? (() => new Date());
  return {
    async issue(request, issuedBy) {
      if (!isValidUscc(request.uscc)) throw new GatewayError('invalid_argument', 'the USCC is not a valid Unified Social Credit Code (check character or alphabet)');
      const name = request.name.trim();
      if (name.length === 0 || name.length > MAX_NAME_LENGTH) throw new GatewayError('invalid_argument', `name must be 1-${MAX_NAME_LENGTH} characters`);
      const hours = request.hours ?? DEFAULT_HOURS;
      if (!Number.isInteger(hours) || hours < 1 || hours > MAX_HOURS) throw new GatewayError('invalid_argument', `the code's validity must be 1-${MAX_HOURS} hours`);
      const issuedAt = now();
      const code = newCode();
      const record = {
        codeId: `enrol-${randomHex(8)}`, codeSha256: sha256Base64url(code), uscc: request.uscc, name, issuedBy,
        issuedAt: issuedAt.toISOString(), expiresAt: new Date(issuedAt.getTime() + hours * 3_600_000).toISOString(),
      };
      await deps.audit.append({
        kind: 'enrolment.code_issued', actor: issuedBy, subject: record.uscc,
        details: { code_id: record.codeId, expires_at: record.expiresAt },
      });
      await deps.store.addEnrolmentCode(record);
      return { codeId: record.codeId, code, uscc: record.uscc, name, expiresAt: record.expiresAt };
    },

    async redeem(proof) {
      if (typeof proof !== 'string' || proof.length > 16_384) throw invalidProof('the proof must be a compact JWS string');
      let verified;
      try {
        if (decodeJwsHeader(proof).typ !== ENROLMENT_TYPE) throw invalidProof(`the proof's header "typ" must be "${ENROLMENT_TYPE}"`);
        verified = await verifyWithEmbeddedKey(proof, REQUEST_ALGORITHMS);
      } catch (error) {
        if (error instanceof JwsError) throw invalidProof(`the proof does not verify with the key it carries (${error.reason})`);
        throw error;
      }
      const claims = parseClaims(verified.payload);
      if (claims.aud !== deps.gatewayId) throw invalidProof('the proof was made for another gateway');
      const at = now();
      const seconds = Math.floor(at.getTime() / 1000);
      if (!(claims.iat < claims.exp && claims.exp <= claims.iat + MAX_REQUEST_LIFETIME_SECONDS)
        || claims.iat > seconds + deps.clockSkewSeconds || claims.exp < seconds - deps.clockSkewSeconds) {
        throw invalidProof('the proof is not valid at this time');
      }
      const code = await deps.store.redeemEnrolmentCode(sha256Base64url(normalise(claims.code)), at.toISOString());
      // One answer for unknown, expired and used codes: the refusal says nothing about which codes exist.
      if (!code) throw new GatewayError('enrolment_code_invalid', 'the enrolment code is unknown, expired or already used: ask the operator for a new one');
      await deps.audit.append({ kind: 'enrolment.redeemed', actor: 'gateway', subject: code.uscc, details: { code_id: code.codeId } });
      const replaced = await deps.store.enterpriseForUscc(code.uscc);
      const participant = await deps.participants.add({
        role: 'enterprise', name: code.name, uscc: code.uscc, publicKeyPem: verified.publicKeyPem,
        certificateDays: CERTIFICATE_DAYS, replaces: replaced?.participantId,
      });
      await deps.store.recordEnrolment(code.codeId, participant.participantId);
      return participant;
    },

    list: () => deps.store.listEnrolmentCodes(),
  };
}
