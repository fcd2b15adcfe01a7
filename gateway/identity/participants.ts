/**
 * The participant registry: who may talk to the gateway, in which role, bound to what. Adding a participant issues
 * its certificate from the platform CA, for a public key that came from a CSR or was generated for development.
 * An enterprise is bound to one USCC (checked), and one enterprise participant acts for a USCC at a time: its
 * consents are the USCC's, so a second one could read, revoke and grant them. Re-enrolling an enterprise (a new key,
 * a new certificate) names the participant it replaces, which is revoked in the same step. A source is bound to the
 * datasets it may feed. Status changes are read by the next request; revocation is final.
 */
import { randomHex } from '../crypto/index.js';
import { certificateFacts, issueParticipantCertificate } from '../crypto/x509.js';
import type { CertificateAuthority } from '../crypto/x509.js';
import { GatewayError } from '../errors/index.js';
import { PARTICIPANT_ID } from './protocol.js';
import { isValidUscc } from '../identifiers/index.js';
import type { AuditLog } from '../audit/index.js';
import type { IdentityStore, ParticipantRecord, ParticipantRole, ParticipantStatus } from '../store/index.js';

export const PARTICIPANT_ROLES: readonly ParticipantRole[] = ['source', 'enterprise', 'bank', 'auditor', 'operator'];
/** RFC 5280's upper bound for an organisation name, which the certificate carries. */
const MAX_NAME_LENGTH = 64;
const MAX_CERTIFICATE_DAYS = 825;

export interface NewParticipant {
  /** Chosen by the operator, or generated as `<role>-<8 hex>`. */
  readonly participantId?: string | undefined;
  readonly role: string;
  readonly name: string;
  readonly uscc?: string | undefined;
  readonly datasets?: readonly string[] | undefined;
  /** SPKI PEM of the participant's RSA key (from its CSR, or generated). */
  readonly publicKeyPem: string;
  readonly certificateDays: number;
  /** Re-enrolment: the enterprise participant (same USCC) this one replaces; it is revoked. */
  readonly replaces?: string | undefined;
}

export type StatusChange = 'suspend' | 'resume' | 'revoke';

/** Which status each change leads to, and from which statuses it may be made. */
const STATUS_CHANGES: Record<StatusChange, { from: readonly ParticipantStatus[]; to: ParticipantStatus }> = {
  suspend: { from: ['active'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'active' },
  revoke: { from: ['active', 'suspended'], to: 'revoked' },
};

export interface ParticipantRegistry {
  /** Validates, issues the certificate, records the audit entry and stores the participant (active). */
  add(participant: NewParticipant): Promise<ParticipantRecord>;
  get(participantId: string): Promise<ParticipantRecord | undefined>;
  list(): Promise<ParticipantRecord[]>;
  /** By the operator, unless `by` names who else decided it (the gateway's misuse rules) and why. */
  changeStatus(participantId: string, change: StatusChange, by?: { readonly actor: string; readonly reason: string }): Promise<ParticipantRecord>;
}

export interface RegistryDependencies {
  readonly store: IdentityStore;
  readonly authority: () => CertificateAuthority;
  readonly datasetIds: readonly string[];
  /** Every change is an audit entry, written before the change (fail closed: no entry, no change). */
  readonly audit: AuditLog;
  /**
   * Called after an operator's status change has been stored (consents end when their enterprise is revoked). A
   * throw is reported to the caller; the status change stands.
   */
  readonly onStatusChanged?: ((participant: ParticipantRecord, change: StatusChange) => Promise<void>) | undefined;
  readonly now?: () => Date;
}

function isRole(role: string): role is ParticipantRole {
  return (PARTICIPANT_ROLES as readonly string[]).includes(role);
}

function invalid(message: string): GatewayError {
  return new GatewayError('invalid_argument', message);
}

function checkBindings(role: ParticipantRole, participant: NewParticipant, datasetIds: readonly string[]): { uscc: string | undefined; datasets: string[] } {
  const datasets = [...new Set(participant.datasets ?? [])];
  if (role === 'enterprise') {
    if (participant.uscc === undefined) throw invalid('an enterprise participant needs --uscc, the enterprise it acts for');
    if (!isValidUscc(participant.uscc)) throw invalid('the USCC is not a valid Unified Social Credit Code (check character or alphabet)');
  } else if (participant.uscc !== undefined) {
    throw invalid('only an enterprise participant is bound to a USCC');
  }
  if (role === 'source') {
    if (datasets.length === 0) throw invalid('a source participant needs --datasets, the datasets it may feed');
    const unknown = datasets.filter((dataset) => !datasetIds.includes(dataset));
    if (unknown.length > 0) throw invalid(`unknown dataset(s): ${unknown.join(', ')}`);
  } else if (datasets.length > 0) {
    throw invalid('only a source participant is bound to datasets');
  }
  return { uscc: participant.uscc, datasets: datasets.sort() };
}

/** The enterprise participant a new one replaces, checked; refuses a second enterprise for a USCC without one. */
async function checkReplacement(store: IdentityStore, role: ParticipantRole, uscc: string | undefined, replaces: string | undefined): Promise<ParticipantRecord | undefined> {
  if (role !== 'enterprise') {
    if (replaces !== undefined) throw invalid('only an enterprise participant replaces another (re-enrolment)');
    return undefined;
  }
  const current = await store.enterpriseForUscc(uscc as string);
  if (replaces === undefined) {
    if (current) {
      throw new GatewayError('participant_exists',
        `enterprise participant "${current.participantId}" already acts for this USCC: re-enrol with --replaces ${current.participantId} (its certificate is then revoked)`);
    }
    return undefined;
  }
  if (!current || current.participantId !== replaces) {
    throw invalid(`--replaces must name the enterprise participant that acts for this USCC now${current ? ` (${current.participantId})` : ' (there is none)'}`);
  }
  return current;
}

export function createParticipantRegistry(deps: RegistryDependencies): ParticipantRegistry {
  const now = deps.now ?? (() => new Date());
  const find = async (participantId: string) => {
    const found = await deps.store.getParticipant(participantId);
    if (!found) throw new GatewayError('not_found', `no participant "${participantId}"`);
    return found;
  };
  return {
    async add(participant) {
      if (!isRole(participant.role)) throw invalid(`role must be one of ${PARTICIPANT_ROLES.join(', ')}`);
      const role = participant.role;
      const name = participant.name.trim();
      if (name.length === 0 || name.length > MAX_NAME_LENGTH) throw invalid(`name must be 1-${MAX_NAME_LENGTH} characters`);
      const participantId = participant.participantId ?? `${role}-${randomHex(4)}`;
      if (!PARTICIPANT_ID.test(participantId)) throw invalid('participant id must be 3-64 characters: a lowercase letter, then lowercase letters, digits and -');
      if (!Number.isInteger(participant.certificateDays) || participant.certificateDays < 1 || participant.certificateDays > MAX_CERTIFICATE_DAYS) {
        throw invalid(`certificate validity must be 1-${MAX_CERTIFICATE_DAYS} days`);
      }
      const bindings = checkBindings(role, participant, deps.datasetIds);
      if (await deps.store.getParticipant(participantId)) throw new GatewayError('participant_exists', `participant "${participantId}" already exists`);
      const replaced = await checkReplacement(deps.store, role, bindings.uscc, participant.replaces);
      const issuedAt = now();
      let certificatePem: string;
      try {
        certificatePem = issueParticipantCertificate(deps.authority(), {
          participantId, role, name, uscc: bindings.uscc, publicKeyPem: participant.publicKeyPem, days: participant.certificateDays, now: issuedAt,
        });
      } catch (error) {
        // The issuer refuses weak or non-RSA keys with fixed messages that quote nothing of the input.
        if (error instanceof RangeError) throw invalid(error.message);
        throw error;
      }
      const facts = certificateFacts(certificatePem);
      const record: ParticipantRecord = {
        participantId, role, name, ...bindings, status: 'active', certificatePem,
        certificateSha256: facts.sha256Thumbprint, notAfter: facts.notAfter.toISOString(),
        createdAt: issuedAt.toISOString(), statusChangedAt: issuedAt.toISOString(),
      };
      if (replaced) {
        await deps.audit.append({
          kind: 'participant.status_changed',
          actor: 'operator',
          subject: replaced.uscc,
          details: { participant_id: replaced.participantId, from: replaced.status, to: 'revoked', replaced_by: participantId },
        });
      }
      await deps.audit.append({
        kind: 'participant.added',
        actor: 'operator',
        ...(record.uscc ? { subject: record.uscc } : {}),
        details: {
          participant_id: participantId, role, certificate_sha256: record.certificateSha256, not_after: record.notAfter,
          ...(record.uscc ? { uscc: record.uscc } : {}),
          ...(record.datasets.length > 0 ? { datasets: [...record.datasets] } : {}),
          ...(replaced ? { replaces: replaced.participantId } : {}),
        },
      });
      await deps.store.addParticipant(record, replaced?.participantId);
      return record;
    },
    get: (participantId) => deps.store.getParticipant(participantId),
    list: () => deps.store.listParticipants(),
    async changeStatus(participantId, change, by) {
      const current = await find(participantId);
      const rule = STATUS_CHANGES[change];
      if (!rule.from.includes(current.status)) {
        throw new GatewayError('invalid_status_change', `cannot ${change} participant "${participantId}": it is ${current.status}`);
      }
      await deps.audit.append({
        kind: 'participant.status_changed',
        actor: by?.actor ?? 'operator',
        ...(current.uscc ? { subject: current.uscc } : {}),
        details: { participant_id: participantId, from: current.status, to: rule.to, ...(by ? { reason: by.reason } : {}) },
      });
      await deps.store.setParticipantStatus(participantId, rule.to, now().toISOString());
      const changed = await find(participantId);
      await deps.onStatusChanged?.(changed, change);
      return changed;
    },
  };
}
