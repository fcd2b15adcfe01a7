/**
 * Credit reports (信用报告, docs/reports.md): a bank asks for the report of one lending stage about an enterprise that
 * consented, and gets a signed set of answers — never record values — that a loan file can keep and anyone can check.
 *
 * One unit of work, under the consent's lock: the consent must be the bank's, about this subject, active, for the
 * template's stage and cover every question of the template; the subject's records are read once and every question
 * evaluated on one date; the answers count against the consent's budget; the `report.generated` entry (every answer,
 * the template's hash) is appended durably. Then the report is signed as a `gateway-report+jwt` JWS carrying that
 * entry's index and leaf hash, its hash is logged (`report.signed`), and a checkpoint covering the entry is signed,
 * so the bank receives with the report everything needed to check it offline: the entry, its inclusion proof and the
 * checkpoint. A refusal is logged (`report.refused`) before it is answered, with the same codes as a verification,
 * against a budget of refusals per bank.
 */
import { randomBytes } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AuditLog, Checkpointer } from '../audit/index.js';
import type { ConsentService } from '../consent/index.js';
import { sha256Hex } from '../crypto/index.js';
import { decodeJwsHeader } from '../crypto/jws.js';
import { leafHash } from '../crypto/merkleHash.js';
import { GatewayError } from '../errors/index.js';
import type { Principal } from '../identity/index.js';
import { todayInShanghai } from '../ingest/index.js';
import type { QuestionCatalog, ReportTemplate, ReportTemplates } from '../policies/index.js';
import type { RecordReader } from '../records/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { GatewaySigner } from '../signing/signer.js';
import type { ConsentStore, IdentityStore, ReportRecord, ReportStore } from '../store/index.js';
import { answerQuestions, consentRefusal } from '../verification/answers.js';
import type { GivenAnswer, RefusalCode } from '../verification/answers.js';

export interface ReportRequest {
  readonly template: string;
  readonly subject: { readonly uscc: string };
  readonly consent_id: string;
  readonly loan_reference: string;
  readonly officer: string;
}

/** The signed report's claims beyond iss, aud, iat, exp and jti. */
export interface ReportClaims {
  readonly report_id: string;
  readonly template: { readonly id: string; readonly version: number; readonly definition_hash: string };
  readonly stage: string;
  /** The enterprise as registered with the platform (not a record value): its name and USCC. */
  readonly subject: { readonly uscc: string; readonly name: string };
  readonly consent: { readonly consent_id: string; readonly purpose: string; readonly artefact_sha256: string; readonly expires_at: string };
  readonly loan_reference: string;
  readonly officer: string;
  /** The evaluation date (Asia/Shanghai). */
  readonly as_of: string;
  readonly generated_at: string;
  /** In the template's order. */
  readonly answers: readonly GivenAnswer[];
  /** True when any answer is disputed. */
  readonly disputed: boolean;
  /** The report.generated entry: its index and SHA-256(0x00 ‖ entry), base64. */
  readonly audit: { readonly index: number; readonly leaf_hash: string };
  readonly request_sha256: string;
}

/** The inclusion proof of the report's entry, in the format of GET /v1/audit/proofs/inclusion. */
export interface InclusionProofBody {
  readonly leaf_index: number;
  readonly tree_size: number;
  readonly leaf_hash: string;
  readonly proof: readonly string[];
  readonly root_hash: string;
}

/** What the bank keeps, and `gateway report verify` checks offline. */
export interface ReportBundle {
  readonly report_id: string;
  /** The compact JWS (typ gateway-report+jwt). */
  readonly report: string;
  readonly audit: {
    readonly index: number;
    /** The report.generated entry exactly as logged (canonical JSON). */
    readonly entry: string;
    readonly inclusion_proof: InclusionProofBody;
    /** The signed checkpoint (C2SP note text) whose tree the proof leads to. */
    readonly checkpoint: string;
  };
  readonly links: { readonly pdf: string; readonly check: string };
}

/** What anyone holding a report's link may see: hashes and the proof, never the answers. */
export interface ReportCheck {
  readonly report_id: string;
  readonly report_sha256: string;
  readonly template: { readonly id: string; readonly version: number };
  readonly issued_at: string;
  /** The entry itself stays out: it holds the answers. */
  readonly audit: Omit<ReportBundle['audit'], 'entry'>;
}

export interface ReportDependencies {
  readonly consents: Pick<ConsentService, 'exclusive' | 'stateOf'>;
  readonly store: ConsentStore & IdentityStore & ReportStore;
  readonly questions: QuestionCatalog;
  readonly templates: ReportTemplates;
  readonly records: RecordReader;
  readonly audit: AuditLog;
  readonly checkpointer: Pick<Checkpointer, 'checkpointNow'>;
  readonly signer: GatewaySigner;
  /** Questions per consent per minute (GATEWAY_CONSENT_QUESTIONS_PER_MINUTE), shared by every report under it. */
  readonly questionsPerMinute: number;
  /** Refused reports per bank per minute (GATEWAY_BANK_REFUSALS_PER_MINUTE): refusals are noise in the audit log. */
  readonly refusalsPerMinute: number;
  readonly now?: () => Date;
}

export interface ReportService {
  create(principal: Principal, request: ReportRequest): Promise<ReportBundle>;
  /** A report the bank was given; the same not_found whether it does not exist or is another bank's. */
  get(principal: Principal, reportId: string): Promise<{ bundle: ReportBundle; claims: ReportClaims; signingKey: string }>;
  /** For anyone with the link. */
  check(reportId: string): Promise<ReportCheck>;
}

const REPORT_ID = /^[A-Za-z0-9_-]{22}$/;
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export function reportLinks(reportId: string): ReportBundle['links'] {
  return { pdf: `/v1/reports/${reportId}/pdf`, check: `/v1/reports/${reportId}/check` };
}

/** The claims of a JWS the gateway signed itself (read back from its own store, so not verified again). */
export function claimsOf(jws: string): ReportClaims {
  const payload = jws.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ReportClaims;
}

function bundleOf(record: ReportRecord): ReportBundle {
  return { report_id: record.reportId, report: record.jws, audit: JSON.parse(record.evidence) as ReportBundle['audit'], links: reportLinks(record.reportId) };
}

export function createReportService(deps: ReportDependencies): ReportService {
  const now = deps.now ?? (() => new Date());
  const limiter = new RateLimiterMemory({ points: deps.questionsPerMinute, duration: 60 });
  const refusalLimiter = new RateLimiterMemory({ points: deps.refusalsPerMinute, duration: 60 });

  async function consume(from: RateLimiterMemory, key: string, points: number, what: string): Promise<void> {
    try {
      await from.consume(key, points);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw new GatewayError('rate_limited', `too many ${what}; retry later`, { details: { retry_after: Math.ceil(rejection.msBeforeNext / 1000) } });
    }
  }

  async function refuse(principal: Principal, request: ReportRequest, template: ReportTemplate, code: RefusalCode, detail: string): Promise<never> {
    // A refusal costs the bank before it is recorded, so refusals cannot flood the log.
    await consume(refusalLimiter, principal.participantId, 1, 'refused reports');
    // Without a consent of this bank about the subject the entry is about no one (docs/privacy.md): a bank naming a
    // victim's USCC and random consent ids cannot crowd the victim's view of the accesses made about it.
    const about = code === 'consent_missing' ? {} : { subject: request.subject.uscc, consentId: request.consent_id };
    await deps.audit.append({
      kind: 'report.refused',
      actor: principal.participantId,
      ...about,
      details: {
        code, template: template.id, template_version: template.version, loan_reference: request.loan_reference, officer: request.officer,
        ...(code === 'consent_missing' ? { uscc: request.subject.uscc, consent: request.consent_id } : {}), request_sha256: principal.requestSha256,
      },
    });
    throw new GatewayError(code, detail);
  }

  async function generate(principal: Principal, request: ReportRequest, template: ReportTemplate): Promise<ReportBundle> {
    const questionIds = template.questions.map((question) => question.id);
    const consent = await deps.store.getConsent(request.consent_id);
    const nowSeconds = Math.floor(now().getTime() / 1000);
    const refusal = await consentRefusal(consent, {
      principal, uscc: request.subject.uscc, questions: questionIds, nowSeconds, stateOf: deps.consents.stateOf, catalog: deps.questions,
    });
    if (!consent || refusal === 'consent_missing' || refusal === 'consent_not_active') {
      return refuse(principal, request, template, refusal ?? 'consent_missing', REFUSALS[refusal ?? 'consent_missing']);
    }
    // A usable consent for another stage: that, rather than which of its questions it lacks, is what the bank must hear.
    if (consent.purpose !== template.stage) {
      return refuse(principal, request, template, 'purpose_not_allowed', `the consent is for ${consent.purpose}; this report is for ${template.stage}`);
    }
    if (refusal) return refuse(principal, request, template, refusal, REFUSALS[refusal]);

    const generatedAt = now();
    const asOf = todayInShanghai(generatedAt);
    const records = await deps.records.forQuestions(consent.uscc, template.questions);
    const disputed = new Set(await deps.store.disputedDatasets(consent.uscc));
    const answers = answerQuestions(template.questions, records, asOf, disputed);
    const [counted] = await deps.store.useConsents([{ consentId: consent.consentId, count: answers.length, at: generatedAt.toISOString() }]);
    if (!counted) return refuse(principal, request, template, 'consent_not_active', 'the consent\'s remaining uses cannot cover this report');

    const reportId = randomBytes(16).toString('base64url');
    const generated = await deps.audit.append({
      kind: 'report.generated',
      actor: principal.participantId,
      subject: consent.uscc,
      consentId: consent.consentId,
      details: {
        report_id: reportId, template: template.id, template_version: template.version, template_hash: template.definitionHash,
        purpose: consent.purpose, loan_reference: request.loan_reference, officer: request.officer, as_of: asOf,
        questions: answers.map((answer) => ({ ...answer })), request_sha256: principal.requestSha256,
      },
    });
    const [stored] = await deps.audit.entries({ start: generated.index, end: generated.index + 1, limit: 1 });
    if (!stored) throw new GatewayError('internal_error', 'the report\'s audit entry cannot be read back');
    const enterprise = await deps.store.getParticipant(consent.enterpriseId);
    const claims: ReportClaims = {
      report_id: reportId,
      template: { id: template.id, version: template.version, definition_hash: template.definitionHash },
      stage: template.stage,
      subject: { uscc: consent.uscc, name: enterprise?.name ?? consent.uscc },
      consent: {
        consent_id: consent.consentId, purpose: consent.purpose, artefact_sha256: consent.artefactSha256,
        expires_at: new Date(consent.expiresAt * 1000).toISOString(),
      },
      loan_reference: request.loan_reference,
      officer: request.officer,
      as_of: asOf,
      generated_at: generatedAt.toISOString(),
      answers,
      disputed: answers.some((answer) => answer.disputed === true),
      audit: { index: generated.index, leaf_hash: base64(generated.leafHash) },
      request_sha256: principal.requestSha256,
    };
    const jws = await deps.signer.sign(SIGNED_TYPES.report, principal.participantId, { ...claims });
    const jwsSha256 = sha256Hex(jws);
    await deps.audit.append({
      kind: 'report.signed',
      actor: 'gateway',
      subject: consent.uscc,
      consentId: consent.consentId,
      details: { report_id: reportId, bank: principal.participantId, report_sha256: jwsSha256, generated_audit_index: generated.index },
    });
    // A checkpoint that covers the entry, so the bank can check the proof now rather than at the next tick.
    const checkpoint = await deps.checkpointer.checkpointNow();
    if (!checkpoint || checkpoint.treeSize <= generated.index) throw new GatewayError('audit_unavailable', 'no checkpoint covers the report\'s entry');
    const audit: ReportBundle['audit'] = {
      index: generated.index,
      entry: Buffer.from(stored.entry).toString('utf8'),
      inclusion_proof: {
        leaf_index: generated.index,
        tree_size: checkpoint.treeSize,
        leaf_hash: base64(leafHash(stored.entry)),
        proof: (await deps.audit.inclusionProof(generated.index, checkpoint.treeSize)).map(base64),
        root_hash: base64(checkpoint.rootHash),
      },
      checkpoint: checkpoint.note,
    };
    const record: ReportRecord = {
      reportId, bankId: principal.participantId, uscc: consent.uscc, consentId: consent.consentId, templateId: template.id,
      templateVersion: template.version, jws, jwsSha256, evidence: JSON.stringify(audit), auditIndex: generated.index,
      createdAt: generatedAt.toISOString(),
    };
    await deps.store.addReport(record);
    return bundleOf(record);
  }

  async function stored(reportId: string): Promise<ReportRecord> {
    // Attacker-controlled: only well-formed ids reach the store.
    const record = REPORT_ID.test(reportId) ? await deps.store.getReport(reportId) : undefined;
    if (!record) throw new GatewayError('not_found', 'no such report');
    return record;
  }

  return {
    async create(principal, request) {
      let template: ReportTemplate;
      try {
        template = deps.templates.get(request.template);
      } catch (error) {
        if (error instanceof GatewayError && error.code === 'not_found') throw new GatewayError('report_template_unknown', error.message);
        throw error;
      }
      await consume(limiter, `${principal.participantId}\u0000${request.consent_id}`, template.questions.length, 'questions under this consent');
      return deps.consents.exclusive(request.consent_id, () => generate(principal, request, template));
    },
    async get(principal, reportId) {
      const record = await stored(reportId);
      if (record.bankId !== principal.participantId) throw new GatewayError('not_found', 'no such report');
      return { bundle: bundleOf(record), claims: claimsOf(record.jws), signingKey: String(decodeJwsHeader(record.jws).kid) };
    },
    async check(reportId) {
      const record = await stored(reportId);
      const { entry: _answers, ...audit } = JSON.parse(record.evidence) as ReportBundle['audit'];
      return {
        report_id: record.reportId, report_sha256: record.jwsSha256, template: { id: record.templateId, version: record.templateVersion },
        issued_at: record.createdAt, audit,
      };
    },
  };
}

const REFUSALS: Readonly<Record<RefusalCode, string>> = {
  consent_missing: 'this bank has no consent with this id about this subject',
  consent_not_active: 'the consent is not active',
  question_not_covered: 'the consent does not cover every question of the report',
  purpose_not_allowed: 'a question of the report does not allow the consent\'s purpose',
};
