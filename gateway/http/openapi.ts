/**
 * The OpenAPI 3.1 description of the HTTP API, served at GET /openapi.json. It is built in code from the sources the
 * gateway itself runs on, so that it cannot drift from them: every problem type and its status from errorRegistry,
 * the request schemas from schemas/api/*.json (JSON Schema 2020-12, OpenAPI 3.1's own dialect), and the dataset
 * ids, audit kinds, roles, purposes and algorithms from their registries. What is written by hand (paths, answer
 * shapes, the codes each endpoint can answer with) is pinned by test/http/openapi.test.ts, which checks the running
 * gateway's answers against this document.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AUDIT_KINDS, ENTRY_VERSION } from '../audit/index.js';
import type { ConsentState } from '../consent/index.js';
import { GATEWAY_ALGORITHM, REQUEST_ALGORITHMS } from '../crypto/jws.js';
import { datasetIds } from '../datasets/registry.js';
import { errorRegistry } from '../errors/index.js';
import type { ErrorCode } from '../errors/index.js';
import { AUTHORIZATION_SCHEME, ENROLMENT_TYPE, MAX_REQUEST_LIFETIME_SECONDS, PARTICIPANT_ID, PARTICIPANT_ROLES, REQUEST_TYPE } from '../identity/index.js';
import type { IngestReceipt } from '../ingest/index.js';
import { inputFormats, MAX_REPORTED_ROW_ERRORS } from '../ingest/index.js';
import type { EventClaims, SubscriptionView } from '../monitoring/index.js';
import type { ObjectionEventType, ObjectionState } from '../store/index.js';
import { packageRoot, schemasDir } from '../paths.js';
import { MONITOR_PURPOSE, PURPOSES, SEVERITIES } from '../policies/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { ParticipantRole, ParticipantStatus } from '../store/index.js';
import type { RefusalCode } from '../verification/index.js';
import type { ScoreRefusalCode, ScorecardView } from '../scoring/index.js';
import { IDEMPOTENCY_KEY_HEADER } from './idempotency.js';
import { PROBLEM_TYPE_PREFIX, problemType } from './problems.js';
import { REQUEST_ID_HEADER } from './requestContext.js';

type Json = Record<string, unknown>;

export const OPENAPI_VERSION = '3.1.1';
const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const SECURITY_SCHEME = 'signedRequest';

/** The request schemas of schemas/api, embedded under these component names. */
const API_SCHEMAS = {
  VerificationRequest: 'verification-request.v1.json',
  ConsentClaims: 'consent.v1.json',
  SubscriptionRequest: 'subscription-request.v1.json',
  ReportRequest: 'report-request.v1.json',
  ObjectionRequest: 'objection-request.v1.json',
  ObjectionResolution: 'objection-resolution.v1.json',
  Scorecard: 'scorecard.v1.json',
  ScoreRequest: 'score-request.v1.json',
  BacktestRequest: 'backtest-request.v1.json',
} as const;

// Closed sets written as records, so that the compiler notices when the union they describe changes.
const CONSENT_STATES: Readonly<Record<ConsentState, string>> = {
  active: 'answers may be given under it',
  revoked: 'the enterprise revoked it, or the operator revoked it or its enterprise',
  expired: 'its exp has passed (derived from the clock, never stored)',
  exhausted: 'its max_uses answers have been given',
  replaced: 'the enterprise granted a consent that replaces it',
  suspended: 'its enterprise is suspended: no answers until it is resumed (derived from the enterprise\'s status, never stored)',
};
const REFUSAL_CODES: Readonly<Record<RefusalCode, string>> = {
  consent_missing: 'no consent of this bank about this subject has this id (the same whether or not the gateway holds data about the subject)',
  consent_not_active: 'the consent is not active (revoked, expired, exhausted, replaced, suspended or not yet valid)',
  question_not_covered: 'the consent does not name every question asked',
  purpose_not_allowed: 'a question does not allow the consent\'s purpose',
};
const SCORE_REFUSAL_CODES: Readonly<Record<ScoreRefusalCode, string>> = {
  ...REFUSAL_CODES,
  question_not_covered: 'the consent does not name the scorecard (scorecard.<id>.v<version>)',
  purpose_not_allowed: 'the review rules or the scorecard do not allow scoring for the consent\'s purpose',
  scorecard_unavailable: 'the scorecard does not exist, is another bank\'s, is not approved, or a question it reads has changed since it was reviewed',
};
const SCORECARD_STATES: Readonly<Record<ScorecardView['state'], string>> = {
  pending: 'passed the automatic review; inert until approved',
  approved: 'by the operator or a review rule: scores may be asked under consents naming it',
  rejected: 'by the operator; never usable',
};
const PARTICIPANT_STATUSES: Readonly<Record<ParticipantStatus, string>> = {
  active: 'may sign requests',
  suspended: 'refused with 403 participant_suspended until reinstated',
  revoked: 'refused with 401 participant_revoked, for good',
};
const SUBSCRIPTION_STATES: Readonly<Record<SubscriptionView['state'], string>> = {
  active: 'changes of its questions raise alerts',
  ended: 'ended by the bank (end_reason ended_by_bank) or with its consent (revoked, replaced, expired, exhausted)',
};
const EVENT_TYPES: Readonly<Record<EventClaims['type'], string>> = {
  alert: 'a monitored answer changed as a rule describes (payload AlertClaims)',
  'consent.revoked': 'the subscription ended because its consent was revoked or replaced (payload ConsentEndedClaims)',
  'consent.expired': 'the subscription ended because its consent expired or was exhausted (payload ConsentEndedClaims)',
  'answer.corrected': 'answers the bank was given were corrected after an objection (payload AnswerCorrectedClaims, docs/objections.md)',
};
const OBJECTION_STATES: Readonly<Record<ObjectionState, string>> = {
  open: 'waiting for the source; answers reading its datasets about the enterprise say disputed',
  confirmed: 'the source found its records right (note in resolution)',
  corrected: 'a batch that references it corrected the records (batch_id in resolution); banks given a changed answer were told',
};
const OBJECTION_EVENTS: Readonly<Record<ObjectionEventType, string>> = {
  raised: 'the enterprise raised it',
  confirmed: 'the source confirmed its records',
  corrected: 'a correcting batch closed it',
  overdue: 'its deadline passed while it was open',
  banks_notified: 'the banks given an answer the correction changed were sent answer.corrected',
};
const INGEST_OUTCOMES: Readonly<Record<IngestReceipt['outcome'], string>> = {
  stored: 'the batch was stored (201)',
  duplicate: 'the same content was already stored for this dataset and source: nothing new was stored (200)',
};

/** What any request can fail with. */
const ANY_REQUEST: readonly ErrorCode[] = ['internal_error'];

/** What every signed endpoint can answer before its own work starts: authenticating the request, then reading its body. */
const SIGNED_REQUEST: readonly ErrorCode[] = [
  'body_too_large', 'unsupported_format',
  'signature_missing', 'signature_malformed', 'algorithm_not_allowed', 'participant_unknown', 'participant_suspended',
  'participant_revoked', 'certificate_unknown', 'certificate_untrusted', 'certificate_expired', 'signature_invalid',
  'audience_mismatch', 'method_mismatch', 'path_mismatch', 'body_hash_mismatch', 'timestamp_out_of_range',
  'lifetime_too_long', 'request_replayed', 'client_certificate_mismatch', 'role_not_allowed',
];

/** Endpoints that record an audit entry before they answer: no entry, no answer. */
const AUDITED: readonly ErrorCode[] = ['audit_unavailable', 'audit_log_inconsistent', 'storage_full'];

/** Endpoints that sign what they answer with the gateway's key. */
const SIGNS: readonly ErrorCode[] = ['key_material_missing', 'key_mismatch'];

/** Endpoints whose body is a JSON object. */
const JSON_BODY: readonly ErrorCode[] = ['unsupported_format', 'malformed_input'];

const ref = (kind: 'schemas' | 'headers' | 'parameters', name: string): Json => ({ $ref: `#/components/${kind}/${name}` });

function readApiSchema(file: string): Json {
  const { $schema: _dialect, ...schema } = JSON.parse(fs.readFileSync(path.join(schemasDir, 'api', file), 'utf8')) as Json;
  // The document's dialect is already JSON Schema 2020-12; the $id stays, naming the file the schema came from.
  return schema;
}

function packageVersion(): string {
  return String((JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as Json)['version']);
}

/** An object schema whose members are all listed: answers are pinned exactly, and new members are a new version. */
function closed(properties: Record<string, Json>, required: readonly string[] = Object.keys(properties), extra: Json = {}): Json {
  return { type: 'object', additionalProperties: false, required: [...required], properties, ...extra };
}

const nullable = (schema: Json): Json => ({ oneOf: [schema, { type: 'null' }] });

const STRING = { type: 'string' };
const INDEX = { type: 'integer', minimum: 0 };
const DATE_TIME = { type: 'string', format: 'date-time' };
const DATE = { type: 'string', format: 'date' };
const BASE64_SHA256 = { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$', description: 'SHA-256, base64' };
const BASE64URL_SHA256 = { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'SHA-256, base64url without padding' };
const HEX_SHA256 = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lowercase hex' };
const USCC = { type: 'string', pattern: '^[0-9A-HJ-NPQRTUWXY]{18}$', description: 'Unified Social Credit Code' };
const CONSENT_ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{16,128}$' };
const PARTICIPANT = { type: 'string', pattern: PARTICIPANT_ID.source };

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function problemTable(): string {
  return markdownTable(['code', 'status', 'title'],
    Object.entries(errorRegistry).map(([code, { status, title }]) => [`\`${code}\``, String(status), title]));
}

/** The payload of a JWS the gateway signs: the registered claims, then the document's own. */
const signedClaims = (typ: string, members: Record<string, Json>, required: readonly string[] = Object.keys(members)) => closed({
  iss: { ...STRING, description: 'the gateway (GATEWAY_ID)' },
  aud: { ...PARTICIPANT, description: 'the participant the document is for' },
  iat: INDEX,
  exp: { ...INDEX, description: 'within the publication period of the signing key in the JWKS' },
  jti: STRING,
  ...members,
}, ['iss', 'aud', 'iat', 'exp', 'jti', ...required], { description: `The payload of a JWS the gateway signs (${GATEWAY_ALGORITHM}, header typ \`${typ}\`, kid in /.well-known/jwks.json).` });

const SUBJECT = closed({ uscc: USCC });

/** The RFC 9457 problem and its registry of codes. */
function problemSchemas(): Record<string, Json> {
  return {
    ProblemCode: {
      enum: Object.keys(errorRegistry),
      description: `The closed registry of problem codes. The problem \`type\` is \`${PROBLEM_TYPE_PREFIX}<code>\`.\n\n${problemTable()}`,
    },
    RowError: closed({
      row: { type: 'integer', minimum: 1, description: 'the record\'s position in the batch, from 1 (a CSV header is not a record)' },
      field: STRING,
      reason: STRING,
    }, ['row', 'reason'], { description: 'One invalid row. Never quotes the offending value: records are confidential.' }),
    Problem: {
      ...closed({
        type: { type: 'string', format: 'uri', pattern: `^${PROBLEM_TYPE_PREFIX}[a-z_]+$` },
        title: { ...STRING, description: 'the title registered for the code' },
        status: { type: 'integer', minimum: 400, maximum: 599 },
        detail: STRING,
        code: ref('schemas', 'ProblemCode'),
        request_id: { ...STRING, description: `the ${REQUEST_ID_HEADER} of the response` },
        errors: { type: 'array', items: ref('schemas', 'RowError'), maxItems: MAX_REPORTED_ROW_ERRORS, description: 'invalid_rows: the first rows\' errors' },
        invalid_row_count: { type: 'integer', minimum: 1, description: 'invalid_rows: how many rows failed in all' },
        unknown_columns: { type: 'array', items: STRING, description: 'invalid_header' },
        repeated_columns: { type: 'array', items: STRING, description: 'invalid_header' },
        missing_columns: { type: 'array', items: STRING, description: 'invalid_header' },
        retry_after: { ...INDEX, description: 'rate_limited: seconds to wait, as in Retry-After' },
        findings: {
          type: 'array', minItems: 1, description: 'scorecard_refused: every finding of the review (docs/privacy.md, "Scorecards")',
          items: closed({ code: STRING, question: { ...STRING, description: 'the feature\'s question, for a finding about one feature' }, detail: STRING }, ['code', 'detail']),
        },
      }, ['type', 'title', 'status', 'detail', 'code', 'request_id']),
      description: 'RFC 9457 problem details, with the stable `code` and the `request_id`; some codes carry extension members.',
      allOf: [
        { if: { properties: { code: { const: 'invalid_rows' } } }, then: { required: ['errors', 'invalid_row_count'] } },
        { if: { properties: { code: { const: 'invalid_header' } } }, then: { required: ['unknown_columns', 'repeated_columns', 'missing_columns'] } },
        { if: { properties: { code: { const: 'rate_limited' } } }, then: { required: ['retry_after'] } },
        { if: { properties: { code: { const: 'scorecard_refused' } } }, then: { required: ['findings'] } },
      ],
    },
  };
}

/** Health, discovery and the public identity documents. */
function identitySchemas(): Record<string, Json> {
  return {
    CompactJws: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', description: 'A JWS in compact serialization (RFC 7515).' },
    Health: closed({ status: { const: 'ok' } }),
    Ready: closed({ status: { const: 'ready' }, engine: { enum: ['sqlite', 'postgres'], description: 'the storage engine (GATEWAY_DATABASE_URL)' } }),
    Discovery: closed({
      gateway_id: { ...STRING, description: 'the audience of signed requests' },
      jwks_uri: { const: '/.well-known/jwks.json' },
      ca_uri: { const: '/v1/ca' },
      request_signing: closed({
        authorization_scheme: { const: AUTHORIZATION_SCHEME },
        typ: { const: REQUEST_TYPE },
        algorithms: { type: 'array', items: { enum: [...REQUEST_ALGORITHMS] } },
        audience: STRING,
        max_lifetime_seconds: { const: MAX_REQUEST_LIFETIME_SECONDS },
        clock_skew_seconds: INDEX,
        documentation: STRING,
      }),
      audit_log: closed({
        origin: { ...STRING, description: 'the checkpoint origin line' },
        note_verifier_key: { ...STRING, description: 'C2SP signed-note verifier key' },
        checkpoint_uri: { const: '/v1/audit/checkpoint' },
        documentation: STRING,
      }),
    }, undefined, { description: 'What a client needs to sign requests and check what the gateway signs.' }),
    JsonWebKeySet: closed({
      keys: {
        type: 'array',
        minItems: 1,
        items: closed({
          kty: { const: 'EC' }, crv: { const: 'P-256' }, x: STRING, y: STRING,
          kid: { ...STRING, description: 'RFC 7638 thumbprint' }, alg: { const: GATEWAY_ALGORITHM }, use: { const: 'sig' },
        }),
      },
    }, undefined, { description: 'The current signing key and retired keys whose signatures may still be valid.' }),
    ParticipantCertificate: closed({
      participant_id: PARTICIPANT,
      role: { enum: [...PARTICIPANT_ROLES] },
      status: { enum: Object.keys(PARTICIPANT_STATUSES), description: markdownTable(['status', 'meaning'], Object.entries(PARTICIPANT_STATUSES)) },
      status_changed_at: DATE_TIME,
      certificate: { ...STRING, description: 'PEM, issued by the platform CA (GET /v1/ca)' },
      certificate_sha256: { ...BASE64URL_SHA256, description: 'x5t#S256 of the certificate' },
      not_after: DATE_TIME,
    }),
  };
}

/** Ingestion: what was stored, and the receipt. */
function ingestSchemas(): Record<string, Json> {
  const batch = {
    outcome: { enum: Object.keys(INGEST_OUTCOMES), description: markdownTable(['outcome', 'meaning'], Object.entries(INGEST_OUTCOMES)) },
    batch_id: STRING,
    dataset: ref('schemas', 'DatasetId'),
    source: PARTICIPANT,
    format: { enum: [...inputFormats] },
    row_count: INDEX,
    content_sha256: HEX_SHA256,
    as_of: DATE,
    received_at: DATE_TIME,
    audit_index: { ...INDEX, description: 'the ingest.batch entry' },
    objection_id: { ...STRING, description: 'the objection the batch corrected (with ?objection=)' },
  };
  const batchRequired = Object.keys(batch).filter((member) => member !== 'objection_id');

  return {
    DatasetId: { enum: [...datasetIds], description: 'A dataset of the data catalog (docs/data-catalog.md).' },
    IngestBatch: closed(batch, batchRequired, { description: 'What was stored; never a record value.' }),
    IngestAnswer: closed({
      receipt: { ...ref('schemas', 'CompactJws'), description: `signed by the gateway, typ ${SIGNED_TYPES.ingestReceipt}; payload IngestReceiptClaims` },
      batch: ref('schemas', 'IngestBatch'),
      objection: { ...ref('schemas', 'ObjectionView'), description: 'the objection the batch corrected, as it now stands (with ?objection=)' },
    }, ['receipt', 'batch']),
    IngestReceiptClaims: signedClaims(SIGNED_TYPES.ingestReceipt, {
      ...batch, request_sha256: { ...HEX_SHA256, description: 'of the signed request (its compact JWS)' },
    }, [...batchRequired, 'request_sha256']),
  };
}

/** Consents as the gateway shows them, and their receipts. */
function consentSchemas(): Record<string, Json> {
  const consentView = {
    consent_id: CONSENT_ID,
    state: ref('schemas', 'ConsentState'),
    enterprise: { ...PARTICIPANT, description: 'the enterprise participant that granted it' },
    uscc: USCC,
    bank: { ...PARTICIPANT, description: 'the bank it is addressed to' },
    purpose: { enum: [...PURPOSES] },
    questions: { type: 'array', items: STRING, description: 'question ids (packs resolved)' },
    not_before: DATE_TIME,
    expires_at: DATE_TIME,
    max_uses: nullable({ type: 'integer', minimum: 1 }),
    uses: INDEX,
    replaces: nullable(CONSENT_ID),
    replaced_by: nullable(CONSENT_ID),
    granted_at: DATE_TIME,
    ended_at: nullable(DATE_TIME),
    artefact_sha256: { ...BASE64URL_SHA256, description: 'SHA-256 of the artefact (the compact JWS), base64url' },
    audit_index: { ...INDEX, description: 'the consent.granted entry' },
  };

  return {
    ConsentState: { enum: Object.keys(CONSENT_STATES), description: markdownTable(['state', 'meaning'], Object.entries(CONSENT_STATES)) },
    ConsentGrant: closed({ consent: ref('schemas', 'CompactJws') }, undefined, {
      description: 'The consent: a compact JWS signed by the submitting enterprise\'s key (typ gateway-consent+jwt, x5c), whose payload is ConsentClaims (docs/consent.md).',
    }),
    ConsentView: closed(consentView),
    ConsentDetail: closed({ ...consentView, artefact: { ...ref('schemas', 'CompactJws'), description: 'the enterprise-signed consent exactly as submitted' } }),
    ConsentChange: closed({
      consent: ref('schemas', 'ConsentView'),
      receipt: { ...ref('schemas', 'CompactJws'), description: `signed by the gateway, typ ${SIGNED_TYPES.consentReceipt}; payload ConsentReceiptClaims` },
    }),
    ConsentReceiptClaims: signedClaims(SIGNED_TYPES.consentReceipt, {
      consent_id: CONSENT_ID, artefact_sha256: BASE64URL_SHA256, audit_index: INDEX, state: ref('schemas', 'ConsentState'), replaces: CONSENT_ID,
    }, ['consent_id', 'artefact_sha256', 'audit_index', 'state']),
    ConsentPage: closed({
      consents: { type: 'array', items: ref('schemas', 'ConsentView') },
      next_cursor: { ...nullable({ type: 'string', maxLength: 64 }), description: 'pass as `cursor` for the next page; null on the last' },
    }),
    ConsentAccesses: closed({
      consent_id: CONSENT_ID,
      state: ref('schemas', 'ConsentState'),
      entries: {
        type: 'array',
        items: closed({
          index: INDEX, kind: ref('schemas', 'AuditKind'), actor: STRING, recorded_at: DATE_TIME,
          entry: { type: 'string', contentMediaType: 'application/json', contentSchema: ref('schemas', 'AuditEntry') },
        }),
      },
    }, undefined, { description: 'Every audit entry about the consent (grants, answers, refusals, revocation, reads).' }),
  };
}

/** Verifications: the answer and its items. */
function verificationSchemas(): Record<string, Json> {
  return {
    AnsweredQuestion: closed({
      id: STRING,
      version: { type: 'integer', minimum: 1 },
      definition_hash: STRING,
      answer: { type: ['boolean', 'string'], description: 'a boolean, or a band name: never a record value' },
      data_as_of: { ...DATE, description: 'the newest as-of date of the records behind the answer; absent when the answer is unknown' },
      stale: { type: 'boolean', description: 'that date is older than the question allows' },
      repeated: { type: 'boolean', description: 'the answer given earlier in the reuse window, not counted again' },
      disputed: { const: true, description: 'present while an objection to records the question reads is open (docs/objections.md)' },
    }, ['id', 'version', 'definition_hash', 'answer', 'stale', 'repeated']),
    VerificationItem: {
      oneOf: [
        closed({
          subject: SUBJECT, consent_id: CONSENT_ID, status: { const: 'answered' }, purpose: { enum: [...PURPOSES] },
          questions: { type: 'array', items: ref('schemas', 'AnsweredQuestion') }, audit_index: INDEX,
        }),
        closed({
          subject: SUBJECT, consent_id: CONSENT_ID, status: { const: 'refused' },
          code: { enum: Object.keys(REFUSAL_CODES), description: markdownTable(['code', 'meaning'], Object.entries(REFUSAL_CODES)) },
          audit_index: INDEX,
        }),
      ],
    },
    VerificationAnswer: closed({
      answer: { ...ref('schemas', 'CompactJws'), description: `signed by the gateway, typ ${SIGNED_TYPES.verification}; payload VerificationClaims` },
      items: { type: 'array', minItems: 1, items: ref('schemas', 'VerificationItem') },
    }),
    VerificationClaims: signedClaims(SIGNED_TYPES.verification, {
      request_sha256: HEX_SHA256, loan_reference: STRING, officer: STRING,
      items: { type: 'array', minItems: 1, items: ref('schemas', 'VerificationItem') },
    }),
  };
}

const AGGREGATES_REQUIRED = ['scorecard', 'purpose', 'as_of', 'cohort_size', 'grade_distribution', 'labelled'];

/** Scorecards: their review state, scores and back-tests (docs/modelling.md). */
function scoringSchemas(): Record<string, Json> {
  const named = closed({ id: STRING, version: { type: 'integer', minimum: 1 }, sha256: HEX_SHA256 });
  const aggregates = {
    scorecard: named, purpose: { enum: [...PURPOSES] }, as_of: DATE,
    cohort_size: { type: 'integer', minimum: 1, description: 'enterprises with an active consent to this bank naming the scorecard for the purpose' },
    grade_distribution: { type: 'array', items: closed({ grade: STRING, count: INDEX }) },
    labelled: { ...INDEX, description: 'cohort members the bank gave an outcome label' },
    roc_auc: { type: 'number', minimum: 0, maximum: 1, description: 'rounded to 0.01; only with enough labels of each outcome' },
    ks: { type: 'number', minimum: 0, maximum: 1, description: 'rounded to 0.01; only with enough labels of each outcome' },
  };
  return {
    ScorecardView: closed({
      scorecard: closed({ id: STRING, version: { type: 'integer', minimum: 1 } }),
      consent_name: { ...STRING, description: 'what a consent names to allow scoring with it: scorecard.<id>.v<version>' },
      bank: PARTICIPANT,
      sha256: { ...HEX_SHA256, description: 'of the document\'s RFC 8785 canonical form; in every score' },
      state: { enum: Object.keys(SCORECARD_STATES), description: markdownTable(['state', 'meaning'], Object.entries(SCORECARD_STATES)) },
      release_score: { type: 'boolean', description: 'scores carry the points beside the grade' },
      submitted_at: DATE_TIME,
      decided_by: { ...nullable({ enum: ['operator', 'review_rules'] }) },
      decided_at: nullable(DATE_TIME),
      audit_index: { ...INDEX, description: 'the latest scorecard.submitted or scorecard.approved/rejected entry' },
      document: ref('schemas', 'Scorecard'),
    }),
    ScoreItem: {
      oneOf: [
        closed({
          subject: SUBJECT, consent_id: CONSENT_ID, status: { const: 'scored' }, purpose: { enum: [...PURPOSES] }, scorecard: named,
          grade: STRING, score: { type: 'integer', description: 'present only when the scorecard\'s approval releases it' },
          reason_codes: { type: 'array', items: STRING, description: 'the features that cost most points, most first; at most the limit' },
          disputed: { const: true, description: 'present while an objection to records a feature reads is open' }, audit_index: INDEX,
        }, ['subject', 'consent_id', 'status', 'purpose', 'scorecard', 'grade', 'reason_codes', 'audit_index']),
        closed({
          subject: SUBJECT, consent_id: CONSENT_ID, status: { const: 'refused' },
          code: { enum: Object.keys(SCORE_REFUSAL_CODES), description: markdownTable(['code', 'meaning'], Object.entries(SCORE_REFUSAL_CODES)) },
          audit_index: INDEX,
        }),
      ],
    },
    ScoreAnswer: closed({
      answer: { ...ref('schemas', 'CompactJws'), description: `signed by the gateway, typ ${SIGNED_TYPES.score}; payload ScoreClaims` },
      items: { type: 'array', minItems: 1, items: ref('schemas', 'ScoreItem') },
    }),
    ScoreClaims: signedClaims(SIGNED_TYPES.score, {
      request_sha256: HEX_SHA256, loan_reference: STRING, officer: STRING,
      items: { type: 'array', minItems: 1, items: ref('schemas', 'ScoreItem') },
    }),
    BacktestAggregates: closed(aggregates, AGGREGATES_REQUIRED),
    BacktestAnswer: closed({
      answer: { ...ref('schemas', 'CompactJws'), description: `signed by the gateway, typ ${SIGNED_TYPES.backtest}; payload BacktestClaims` },
      aggregates: ref('schemas', 'BacktestAggregates'),
    }),
    BacktestClaims: signedClaims(SIGNED_TYPES.backtest, { request_sha256: HEX_SHA256, ...aggregates }, ['request_sha256', ...AGGREGATES_REQUIRED]),
  };
}

/** The audit log: entries and proofs. */
function auditSchemas(): Record<string, Json> {
  return {
    AuditKind: { enum: [...AUDIT_KINDS] },
    AuditEntry: {
      type: 'object',
      required: ['v', 'kind', 'at', 'actor'],
      properties: {
        v: { const: ENTRY_VERSION }, kind: ref('schemas', 'AuditKind'), at: DATE_TIME,
        actor: { ...STRING, description: 'a participant id, "operator" or "gateway"' },
        subject: { ...STRING, description: 'the USCC (or keyed hash of a person) the event is about' },
        consent_id: CONSENT_ID,
      },
      description: 'An audit log entry: RFC 8785 canonical JSON, with event-specific members beside these (docs/audit.md).',
    },
    AuditEntries: closed({
      tree_size: INDEX,
      entries: {
        type: 'array',
        items: closed({ index: INDEX, entry: { type: 'string', contentMediaType: 'application/json', contentSchema: ref('schemas', 'AuditEntry'), description: 'the leaf bytes, as UTF-8 text' } }),
      },
      next_start: { ...nullable(INDEX), description: 'pass as `start` for the next page; null when this page was not full' },
    }),
    InclusionProof: closed({
      leaf_index: INDEX, tree_size: { type: 'integer', minimum: 1 }, leaf_hash: BASE64_SHA256,
      proof: { type: 'array', items: BASE64_SHA256 }, root_hash: BASE64_SHA256,
    }, undefined, { description: 'RFC 9162 inclusion proof (hashes base64).' }),
    ConsistencyProof: closed({
      first_size: { type: 'integer', minimum: 1 }, second_size: { type: 'integer', minimum: 1 },
      first_root: BASE64_SHA256, second_root: BASE64_SHA256, proof: { type: 'array', items: BASE64_SHA256 },
    }, undefined, { description: 'RFC 9162 consistency proof (hashes base64).' }),
  };
}

/** Monitoring: subscriptions, the feed and the signed events. */
function monitoringSchemas(): Record<string, Json> {
  return {
    SubscriptionView: closed({
      subscription_id: STRING,
      consent_id: CONSENT_ID,
      subject: SUBJECT,
      rules: { type: 'array', items: STRING, description: 'monitor rule ids (policies/monitors.json)' },
      state: { enum: Object.keys(SUBSCRIPTION_STATES), description: markdownTable(['state', 'meaning'], Object.entries(SUBSCRIPTION_STATES)) },
      end_reason: nullable(STRING),
      created_at: DATE_TIME,
      ended_at: nullable(DATE_TIME),
      audit_index: { ...INDEX, description: 'the subscription.created entry' },
    }),
    SubscriptionPage: closed({
      subscriptions: { type: 'array', items: ref('schemas', 'SubscriptionView') },
      next_cursor: { ...nullable({ type: 'string', maxLength: 64 }), description: 'pass as `cursor` for the next page; null on the last' },
    }),
    AlertFeed: closed({
      events: {
        type: 'array',
        items: closed({
          event_id: STRING,
          type: { enum: Object.keys(EVENT_TYPES), description: markdownTable(['type', 'meaning'], Object.entries(EVENT_TYPES)) },
          alert: { ...ref('schemas', 'CompactJws'), description: `the signed event (typ ${SIGNED_TYPES.alert}), the same bytes a webhook delivery carries` },
          cursor: STRING,
        }),
      },
      next_cursor: { type: 'string', maxLength: 64, description: 'pass as `after` to read on; the same cursor again when there is nothing new' },
    }),
    AlertClaims: signedClaims(SIGNED_TYPES.alert, {
      type: { const: 'alert' }, event_id: STRING, subscription_id: STRING, consent_id: CONSENT_ID, subject: SUBJECT,
      rule: STRING, severity: { enum: [...SEVERITIES] },
      question: closed({ id: STRING, version: { type: 'integer', minimum: 1 }, definition_hash: STRING }),
      old_answer: { type: ['boolean', 'string'] }, new_answer: { type: ['boolean', 'string'] },
      data_as_of: DATE, disputed: { const: true, description: 'present while an objection to records the question reads is open (docs/objections.md)' }, raised_at: DATE_TIME,
    }, ['type', 'event_id', 'subscription_id', 'consent_id', 'subject', 'rule', 'severity', 'question', 'old_answer', 'new_answer', 'raised_at']),
    AnswerCorrectedClaims: signedClaims(SIGNED_TYPES.alert, {
      type: { const: 'answer.corrected' }, event_id: STRING, objection_id: STRING, subject: SUBJECT,
      corrections: {
        type: 'array', minItems: 1,
        items: closed({
          question: closed({ id: STRING, version: { type: 'integer', minimum: 1 }, definition_hash: STRING }),
          answered_audit_index: { ...INDEX, description: 'the entry of the answer the bank was given' },
          old_answer: { type: ['boolean', 'string'] }, new_answer: { type: ['boolean', 'string'] }, data_as_of: DATE,
        }, ['question', 'answered_audit_index', 'old_answer', 'new_answer']),
      },
      corrected_audit_index: { ...INDEX, description: 'the answer.corrected entry that records the corrected answers' },
      batch_id: { ...STRING, description: 'the correcting batch' },
      raised_at: DATE_TIME,
    }),
    ConsentEndedClaims: signedClaims(SIGNED_TYPES.alert, {
      type: { enum: ['consent.revoked', 'consent.expired'] }, event_id: STRING, subscription_id: STRING, consent_id: CONSENT_ID, subject: SUBJECT,
      reason: { ...STRING, description: 'revoked, replaced, expired or exhausted' }, raised_at: DATE_TIME,
    }),
  };
}

/** Credit reports: the signed report, what the bank keeps, what a link shows, the templates. */
function reportSchemas(): Record<string, Json> {
  const localText = closed({ zh: STRING, en: STRING });
  const audit = {
    index: { ...INDEX, description: 'the report.generated entry' },
    entry: { type: 'string', contentMediaType: 'application/json', contentSchema: ref('schemas', 'AuditEntry'), description: 'that entry exactly as logged' },
    inclusion_proof: ref('schemas', 'InclusionProof'),
    checkpoint: { ...STRING, description: 'the signed checkpoint (C2SP note) of the tree the proof leads to' },
  };
  return {
    ReportAnswer: closed({
      id: STRING, version: { type: 'integer', minimum: 1 }, definition_hash: STRING,
      answer: { type: ['boolean', 'string'], description: 'a boolean, a band name, or unknown: never a record value' },
      data_as_of: { ...DATE, description: 'the newest as-of date of the records behind the answer; absent when it is unknown' },
      stale: { type: 'boolean', description: 'that date is older than the question allows' },
      disputed: { const: true, description: 'present while an objection to records the question reads is open (docs/objections.md)' },
    }, ['id', 'version', 'definition_hash', 'answer', 'stale']),
    ReportClaims: signedClaims(SIGNED_TYPES.report, {
      report_id: STRING,
      template: closed({ id: STRING, version: { type: 'integer', minimum: 1 }, definition_hash: HEX_SHA256 }),
      stage: { enum: [...PURPOSES] },
      subject: closed({ uscc: USCC, name: { ...STRING, description: 'the enterprise as registered with the platform' } }),
      consent: closed({ consent_id: CONSENT_ID, purpose: { enum: [...PURPOSES] }, artefact_sha256: BASE64URL_SHA256, expires_at: DATE_TIME }),
      loan_reference: STRING, officer: STRING, as_of: { ...DATE, description: 'the evaluation date (Asia/Shanghai)' }, generated_at: DATE_TIME,
      answers: { type: 'array', items: ref('schemas', 'ReportAnswer'), description: 'in the template\'s order' },
      disputed: { type: 'boolean', description: 'any answer is disputed' },
      audit: closed({ index: INDEX, leaf_hash: BASE64_SHA256 }, undefined, { description: 'the report.generated entry: its index and SHA-256(0x00 ‖ entry)' }),
      request_sha256: HEX_SHA256,
    }),
    ReportBundle: closed({
      report_id: STRING,
      report: { ...ref('schemas', 'CompactJws'), description: `signed by the gateway, typ ${SIGNED_TYPES.report}; payload ReportClaims` },
      audit: closed(audit),
      links: closed({ pdf: STRING, check: STRING }),
    }, undefined, { description: 'What the bank keeps: `gateway report verify` checks it offline (docs/reports.md).' }),
    ReportCheck: closed({
      report_id: STRING, report_sha256: { ...HEX_SHA256, description: 'of the report JWS' },
      template: closed({ id: STRING, version: { type: 'integer', minimum: 1 } }), issued_at: DATE_TIME,
      audit: closed({ index: audit.index, inclusion_proof: audit.inclusion_proof, checkpoint: audit.checkpoint }),
    }, undefined, { description: 'What anyone with a report\'s link sees: hashes and the proof, never the answers.' }),
    ReportTemplates: closed({
      templates: {
        type: 'array',
        items: closed({
          id: STRING, version: { type: 'integer', minimum: 1 }, stage: { enum: [...PURPOSES] }, definition_hash: HEX_SHA256, title: localText,
          description: localText, sections: { type: 'array', items: closed({ heading: localText, questions: { type: 'array', items: STRING } }) },
        }),
      },
    }),
  };
}

/** Support policies (政策直达): the catalog, an enterprise's eligibility, a department's counts. */
function supportSchemas(): Record<string, Json> {
  const localText = closed({ zh: STRING, en: STRING });
  const eligibility = { enum: ['eligible', 'not_eligible', 'unknown'] };
  const count = { oneOf: [INDEX, { type: 'null' }], description: 'null: suppressed (below min_cell, or the cell that would give a suppressed one away)' };
  return {
    SupportPolicies: closed({
      policies: {
        type: 'array',
        items: closed({
          id: STRING, version: { type: 'integer', minimum: 1 }, definition_hash: HEX_SHA256, title: localText, department: localText, description: localText,
          conditions: { type: 'array', items: closed({ question: STRING, answers: { type: 'array', items: { type: ['boolean', 'string'] } } }) },
        }),
      },
    }),
    SupportEligibility: closed({
      eligibility: { ...ref('schemas', 'CompactJws'), description: 'gateway-support-eligibility+jwt: for the bank named, else for the enterprise' },
      policies: { type: 'array', items: closed({ policy: STRING, version: { type: 'integer', minimum: 1 }, definition_hash: HEX_SHA256, eligibility }) },
      audit_index: { ...INDEX, description: 'the support.eligibility_given entry' },
    }),
    SupportCounts: closed({
      counts: { ...ref('schemas', 'CompactJws'), description: 'gateway-support-counts+jwt: the same counts, signed' },
      policy: STRING, eligible: count, not_eligible: count, unknown: count, min_cell: { type: 'integer', minimum: 1 },
      audit_index: { ...INDEX, description: 'the support.counts_read entry' },
    }),
  };
}

/** Objections: as enterprises and sources see them. */
function objectionSchemas(): Record<string, Json> {
  const evidence = { name: STRING, media_type: STRING, sha256: HEX_SHA256, size: INDEX, content: { ...STRING, description: 'base64; only when one objection is read' } };
  return {
    ObjectionView: closed({
      objection_id: STRING,
      state: { enum: Object.keys(OBJECTION_STATES), description: markdownTable(['state', 'meaning'], Object.entries(OBJECTION_STATES)) },
      overdue: { type: 'boolean', description: 'open past its deadline' },
      uscc: USCC, enterprise: PARTICIPANT,
      datasets: { type: 'array', items: ref('schemas', 'DatasetId') },
      target: { oneOf: [closed({ dataset: ref('schemas', 'DatasetId') }), closed({ audit_index: INDEX, question: STRING })] },
      reason: STRING,
      evidence: { type: 'array', items: closed(evidence, ['name', 'media_type', 'sha256', 'size']) },
      raised_at: DATE_TIME, due_at: DATE_TIME, resolved_at: nullable(DATE_TIME), resolved_by: nullable(PARTICIPANT),
      resolution: nullable({ type: 'object', description: 'note (confirmed), or batch_id and dataset (corrected)' }),
      audit_index: { ...INDEX, description: 'the objection.raised entry' },
      history: {
        type: 'array',
        items: closed({
          type: { enum: Object.keys(OBJECTION_EVENTS), description: markdownTable(['type', 'meaning'], Object.entries(OBJECTION_EVENTS)) },
          at: DATE_TIME, actor: STRING, audit_index: nullable(INDEX),
        }),
      },
    }),
    ObjectionPage: closed({
      objections: { type: 'array', items: ref('schemas', 'ObjectionView') },
      next_cursor: { ...nullable({ type: 'string', maxLength: 64 }), description: 'pass as `cursor` for the next page; null on the last' },
    }),
  };
}

/** The portal's enrolment and the registry it reads (docs/portal.md). */
function portalSchemas(): Record<string, Json> {
  const localText = closed({ zh: STRING, en: STRING });
  const participantSummary = {
    participant_id: PARTICIPANT, role: { enum: [...PARTICIPANT_ROLES] }, name: STRING, status: { enum: Object.keys(PARTICIPANT_STATUSES) },
    uscc: nullable(USCC), datasets: { type: 'array', items: STRING }, certificate_sha256: BASE64URL_SHA256, not_after: DATE_TIME,
    created_at: DATE_TIME, status_changed_at: DATE_TIME,
  };
  return {
    EnrolmentCodeRequest: closed({
      uscc: USCC,
      name: { type: 'string', minLength: 1, maxLength: 64, description: 'the enterprise\'s name, as its certificate will carry it' },
      hours: { type: 'integer', minimum: 1, maximum: 720, description: 'how long the code is valid (default 72)' },
    }, ['uscc', 'name']),
    EnrolmentCode: closed({
      code_id: STRING, code: { ...STRING, description: 'shown once: only its SHA-256 is kept' }, uscc: USCC, name: STRING, expires_at: DATE_TIME,
    }),
    EnrolmentCodeList: closed({
      codes: {
        type: 'array',
        items: closed({
          code_id: STRING, uscc: USCC, name: STRING, issued_by: STRING, issued_at: DATE_TIME, expires_at: DATE_TIME,
          used_at: nullable(DATE_TIME), used_by: nullable(PARTICIPANT),
        }),
      },
    }),
    EnrolmentRequest: closed({ proof: { ...STRING, description: `compact JWS, typ ${ENROLMENT_TYPE}, signed by the new key, carrying its public key as "jwk", over {aud, code, iat, exp}` } }),
    Enrolment: closed({
      participant_id: PARTICIPANT, uscc: USCC, name: STRING,
      certificate: { ...STRING, description: 'PEM, issued by the platform CA for the proven key' },
      certificate_sha256: { ...BASE64URL_SHA256, description: 'x5t#S256 of the certificate' }, not_after: DATE_TIME,
    }),
    BankList: closed({ banks: { type: 'array', items: closed({ participant_id: PARTICIPANT, name: STRING }) } }),
    ParticipantSummary: closed(participantSummary),
    ParticipantList: closed({ participants: { type: 'array', items: ref('schemas', 'ParticipantSummary') } }),
    NewParticipantRequest: closed({
      role: { enum: [...PARTICIPANT_ROLES] }, name: { type: 'string', minLength: 1, maxLength: 64 },
      csr: { ...STRING, description: 'PKCS#10 PEM of the participant\'s RSA key (2048 bits or more); only its key is taken' },
      uscc: { ...USCC, description: 'an enterprise\'s USCC' }, datasets: { type: 'array', items: STRING, description: 'a source\'s datasets' },
      days: { type: 'integer', minimum: 1, maximum: 825, description: 'certificate validity (default 365)' },
    }, ['role', 'name', 'csr']),
    NewParticipant: closed({ ...participantSummary, certificate: { ...STRING, description: 'PEM, issued by the platform CA' } }),
    StatusChangeRequest: closed({ change: { enum: ['suspend', 'resume', 'revoke'] } }),
    PortalCatalog: closed({
      questions: {
        type: 'array',
        items: closed({
          id: STRING, title: localText, description: localText, answer: { type: 'object' }, purposes: { type: 'array', items: STRING },
          datasets: { type: 'array', items: STRING }, max_age_days: { type: 'integer' },
        }),
      },
      packs: { type: 'array', items: closed({ id: STRING, title: localText, description: localText, questions: { type: 'array', items: STRING }, purposes: { type: 'array', items: STRING } }) },
      monitors: { type: 'array', items: closed({ id: STRING, question: STRING, severity: { enum: ['low', 'medium', 'high'] }, title: localText }) },
    }),
  };
}

/** The operator's view of the running gateway: ids, dates, sizes and hashes, never key material or record values. */
function operationsSchemas(): Record<string, Json> {
  return {
    GatewayStatus: closed({
      ready: { type: 'boolean' },
      not_ready: { ...nullable({ type: 'string' }), description: 'why not, as a problem code (storage_unavailable, audit_log_inconsistent, storage_full, ...)' },
      engine: { enum: ['sqlite', 'postgres'] },
      audit_log: closed({
        size: INDEX,
        halted: { ...nullable({ type: 'string' }), description: 'the problem code the log halted with, or null' },
        latest_checkpoint: nullable(closed({ tree_size: INDEX, created_at: DATE_TIME })),
      }),
      signing_keys: {
        type: 'array', description: 'newest first: the current key and the retired ones still published',
        items: closed({ kid: STRING, created_at: DATE_TIME, retired_at: nullable(DATE_TIME), current: { type: 'boolean' } }),
      },
      data_keys: { type: 'array', items: closed({ data_key_id: { type: 'integer', minimum: 1 }, created_at: DATE_TIME, current: { type: 'boolean' } }) },
      ca_certificate: closed({ subject: STRING, not_after: DATE_TIME, sha256: HEX_SHA256 }),
    }),
    MisuseFlagList: closed({
      flags: {
        type: 'array',
        description: 'oldest first',
        items: closed({
          audit_index: { ...INDEX, description: 'the flag\'s misuse.flagged entry' },
          rule: STRING, bank: STRING, severity: { enum: ['low', 'medium', 'high'] },
          evidence: { type: 'object', additionalProperties: { type: 'number' }, description: 'the counts that passed the rule\'s limits' },
          window_from: DATE_TIME, window_to: DATE_TIME, suspended: { type: 'boolean', description: 'whether the flag suspended the bank' },
        }),
      },
    }),
    BatchList: closed({
      batches: {
        type: 'array',
        description: 'newest first',
        items: closed({
          batch_id: STRING, dataset: STRING, source: STRING, format: STRING, row_count: INDEX, as_of: DATE, received_at: DATE_TIME,
          content_sha256: HEX_SHA256,
          audit_index: { ...nullable(INDEX), description: 'the batch\'s ingest.batch entry, its receipt in the log (null only until crash recovery writes it)' },
        }),
      },
    }),
  };
}

function schemas(): Record<string, Json> {
  return {
    ...problemSchemas(), ...identitySchemas(), ...ingestSchemas(), ...consentSchemas(), ...verificationSchemas(), ...scoringSchemas(), ...auditSchemas(),
    ...monitoringSchemas(), ...reportSchemas(), ...objectionSchemas(), ...supportSchemas(), ...portalSchemas(), ...operationsSchemas(),
    ...Object.fromEntries(Object.entries(API_SCHEMAS).map(([name, file]) => [name, readApiSchema(file)])),
  };
}

function headers(): Record<string, Json> {
  return {
    [REQUEST_ID_HEADER]: {
      description: 'On every response, and as `request_id` in every problem: the inbound X-Request-Id when well-formed, otherwise a new UUID.',
      required: true,
      schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{8,64}$' },
    },
    'Audit-Index': { description: 'The index of the audit entry that recorded this read or answer.', required: true, schema: INDEX },
    'WWW-Authenticate': { description: 'The scheme to sign with, when authentication refused the request.', schema: { const: AUTHORIZATION_SCHEME } },
    'Retry-After': { description: 'Seconds to wait before asking again.', required: true, schema: INDEX },
    'Idempotent-Replayed': { description: `The answer to an earlier request with the same ${IDEMPOTENCY_KEY_HEADER}, replayed byte for byte.`, schema: { const: 'true' } },
    'Cache-Control': { description: 'How long the document may be cached.', required: true, schema: STRING },
  };
}

function parameters(): Record<string, Json> {
  return {
    RequestId: {
      name: REQUEST_ID_HEADER, in: 'header', required: false,
      description: 'Your id for the request, echoed when well-formed (8-64 of A-Z a-z 0-9 . _ -), replaced otherwise.',
      schema: { type: 'string' },
    },
    IdempotencyKey: {
      name: IDEMPOTENCY_KEY_HEADER, in: 'header', required: false,
      description: 'Retry safely (draft-ietf-httpapi-idempotency-key-header): the same key with the same method, path and body gets the first successful answer again; with a different request, 422 idempotency_key_reused; while the first is running, 409 idempotency_key_in_use.',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
    },
  };
}

function securitySchemes(): Record<string, Json> {
  return {
    [SECURITY_SCHEME]: {
      type: 'apiKey', in: 'header', name: 'Authorization',
      description: `Every participant request is signed: \`Authorization: ${AUTHORIZATION_SCHEME} <compact JWS>\`, a JWS (${REQUEST_ALGORITHMS.join(' or ')}, typ \`${REQUEST_TYPE}\`, kid = participant id, x5t#S256 = its certificate thumbprint) over the audience, method, exact path and query, SHA-256 of the exact body bytes, iat/exp (at most ${MAX_REQUEST_LIFETIME_SECONDS} s) and a single-use jti, made with the key of the participant's platform certificate. The scopes of a requirement are the participant roles the endpoint allows. Where the gateway requires mutual TLS, the TLS client certificate must also be the signer's. See [docs/request-signing.md](docs/request-signing.md).`,
    },
  };
}

// ─── Operations ─────────────────────────────────────────────────────────────────────────────────────────────────────

interface Success {
  readonly description: string;
  /** Media type → schema. */
  readonly content: Readonly<Record<string, Json>>;
  readonly headers?: readonly string[];
  readonly optionalHeaders?: readonly string[];
}

interface OperationSpec {
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /** The roles allowed to call a signed endpoint; absent for a public one. */
  readonly roles?: readonly ParticipantRole[];
  readonly parameters?: readonly Json[];
  readonly requestBody?: Json;
  readonly responses: Readonly<Record<number, Success>>;
  /** The problem codes the endpoint's own work can answer with (the signed-request ones are added for signed endpoints). */
  readonly problems?: readonly ErrorCode[];
}

function headerRefs(required: readonly string[], optional: readonly string[] = []): Json {
  return Object.fromEntries([REQUEST_ID_HEADER, ...required, ...optional].map((name) => [name, ref('headers', name)]));
}

function successResponse(success: Success): Json {
  return {
    description: success.description,
    headers: headerRefs(success.headers ?? [], success.optionalHeaders ?? []),
    content: Object.fromEntries(Object.entries(success.content).map(([mediaType, schema]) => [mediaType, { schema }])),
  };
}

/** One response per status, whose schema admits exactly the codes (and problem types) this endpoint answers with. */
function problemResponses(codes: readonly ErrorCode[], signed: boolean): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  const unique = [...new Set(codes)].sort((a, b) => Object.keys(errorRegistry).indexOf(a) - Object.keys(errorRegistry).indexOf(b));
  for (const code of unique) {
    const { status } = errorRegistry[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, Json> = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const required = status === 401 ? ['WWW-Authenticate'] : status === 429 ? ['Retry-After'] : [];
    const optional = status === 403 && signed ? ['WWW-Authenticate'] : [];
    responses[String(status)] = {
      description: statusCodes.map((code) => `- \`${code}\`: ${errorRegistry[code].title}`).join('\n'),
      headers: headerRefs(required, optional),
      content: {
        [PROBLEM_MEDIA_TYPE]: {
          schema: {
            $ref: '#/components/schemas/Problem',
            properties: { type: { enum: statusCodes.map(problemType) }, status: { const: status }, code: { enum: statusCodes } },
          },
        },
      },
    };
  }
  return responses;
}

function operation(spec: OperationSpec): Json {
  const signed = spec.roles !== undefined;
  const problems = [...(signed ? SIGNED_REQUEST : []), ...(spec.problems ?? []), ...ANY_REQUEST];
  const responses: Record<string, Json> = {};
  for (const [status, success] of Object.entries(spec.responses)) responses[status] = successResponse(success);
  Object.assign(responses, problemResponses(problems, signed));
  const roles = signed ? `\n\nSigned request; roles: ${spec.roles!.join(', ')}.` : '\n\nPublic: no signature needed.';
  return {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    description: `${spec.description ?? spec.summary}${roles}`,
    ...(spec.parameters ? { parameters: [...spec.parameters] } : {}),
    ...(spec.requestBody ? { requestBody: spec.requestBody } : {}),
    responses,
    security: signed ? [{ [SECURITY_SCHEME]: [...spec.roles!] }] : [],
  };
}

const json = (name: string) => ({ 'application/json': ref('schemas', name) });

function query(name: string, schema: Json, description: string, required = false): Json {
  return { name, in: 'query', required, description, schema };
}

function pathParameter(name: string, schema: Json, description: string): Json {
  return { name, in: 'path', required: true, description, schema };
}

const TIME_FILTER = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}(T[0-9:.]+Z)?$' };

const SCORECARD_PARAMETERS = [
  pathParameter('id', { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' }, 'the scorecard id'),
  pathParameter('version', { type: 'integer', minimum: 1, maximum: 1000000 }, 'the scorecard version'),
];

const CONSENT_ID_PARAMETER = pathParameter('consentId', CONSENT_ID, 'the consent id (its jti)');

function jsonRequest(schemaName: string, description: string): Json {
  return { required: true, description, content: { 'application/json': { schema: ref('schemas', schemaName) } } };
}

/** Path template → method → operation. Templates use OpenAPI's {name} where express uses :name. */
function operations(): Record<string, Record<string, OperationSpec>> {
  return {
    '/healthz': {
      get: { operationId: 'liveness', tag: 'health', summary: 'Liveness', responses: { 200: { description: 'The process is up.', content: json('Health') } } },
    },
    '/readyz': {
      get: {
        operationId: 'readiness', tag: 'health', summary: 'Readiness', description: 'Ready to serve: the store answers, the audit log is not halted, the data directory\'s disk has GATEWAY_MIN_FREE_MB free, and the gateway is not shutting down.',
        responses: { 200: { description: 'Ready.', content: json('Ready') } },
        problems: ['storage_unavailable', 'audit_log_inconsistent', 'storage_full'],
      },
    },
    '/metrics': {
      get: {
        operationId: 'prometheus', tag: 'health', summary: 'Prometheus metrics', description: 'Request, ingest and audit metrics in the Prometheus text format; labels carry route templates, never ids.',
        responses: { 200: { description: 'Metrics.', content: { 'text/plain; version=0.0.4': { type: 'string' } } } },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openApi', tag: 'meta', summary: 'This document', description: 'The OpenAPI 3.1 description of this API.',
        responses: { 200: { description: 'This document.', content: { 'application/json': { type: 'object', required: ['openapi', 'info', 'paths'] } }, headers: ['Cache-Control'] } },
      },
    },
    '/.well-known/credit-gateway': {
      get: { operationId: 'discovery', tag: 'identity', summary: 'Discovery document', responses: { 200: { description: 'How to sign requests, and where the keys are.', content: json('Discovery') } } },
    },
    '/.well-known/jwks.json': {
      get: {
        operationId: 'jwks', tag: 'identity', summary: 'The gateway\'s signing keys',
        description: `The JWKS that checks receipts, consent receipts and answers (${GATEWAY_ALGORITHM}).`,
        responses: { 200: { description: 'The key set.', content: { 'application/jwk-set+json': ref('schemas', 'JsonWebKeySet') }, headers: ['Cache-Control'] } },
        problems: ['key_material_missing'],
      },
    },
    '/v1/ca': {
      get: {
        operationId: 'rootCertificate', tag: 'identity', summary: 'The platform root certificate', description: 'The CA that issues participant certificates (PEM).',
        responses: { 200: { description: 'The certificate, PEM.', content: { 'application/x-pem-file': { type: 'string', pattern: '^-----BEGIN CERTIFICATE-----' } }, headers: ['Cache-Control'] } },
      },
    },
    '/v1/participants/{participantId}/certificate': {
      get: {
        operationId: 'participantCertificate', tag: 'identity', summary: 'A participant\'s certificate and status',
        description: 'Any participant\'s registered certificate and status, to participants only: participant ids are easy to guess, and the certificate names the organisation and its USCC.',
        roles: [...PARTICIPANT_ROLES],
        parameters: [pathParameter('participantId', PARTICIPANT, 'the participant id')],
        responses: { 200: { description: 'The participant\'s registered certificate and status.', content: json('ParticipantCertificate'), headers: ['Cache-Control'] } },
        problems: ['not_found'],
      },
    },
    '/v1/enrolment-codes': {
      post: {
        operationId: 'issueEnrolmentCode', tag: 'portal', summary: 'Issue a one-time enrolment code',
        description: 'An operator issues a code bound to one enterprise (USCC and name) that expires and is used once; the enterprise enters it in the portal. Audited.',
        roles: ['operator'],
        requestBody: jsonRequest('EnrolmentCodeRequest', 'The enterprise the code is for.'),
        responses: { 201: { description: 'The code, shown this once.', content: json('EnrolmentCode') } },
        problems: [...JSON_BODY, 'invalid_argument', ...AUDITED],
      },
      get: {
        operationId: 'listEnrolmentCodes', tag: 'portal', summary: 'List enrolment codes',
        description: 'Every code issued, with whether and by whom it was used; never the codes themselves.',
        roles: ['operator'],
        responses: { 200: { description: 'The codes.', content: json('EnrolmentCodeList') } },
      },
    },
    '/v1/enrolments': {
      post: {
        operationId: 'enrol', tag: 'portal', summary: 'Enrol with a one-time code',
        description: 'Unsigned (the enterprise has no certificate yet): the proof of possession, signed by the new key over the code, stands in for the signature. The platform CA issues the certificate for the proven public key; an enterprise already acting for the USCC is revoked (re-enrolment).',
        requestBody: jsonRequest('EnrolmentRequest', 'The proof of possession.'),
        responses: { 201: { description: 'The new enterprise participant and its certificate.', content: json('Enrolment') } },
        problems: [...JSON_BODY, 'body_too_large', 'enrolment_proof_invalid', 'enrolment_code_invalid', 'invalid_argument', 'participant_exists', ...AUDITED],
      },
    },
    '/v1/banks': {
      get: {
        operationId: 'listBanks', tag: 'portal', summary: 'The active banks', description: 'The banks an enterprise may consent to.',
        roles: ['enterprise'],
        responses: { 200: { description: 'The active banks.', content: json('BankList') } },
      },
    },
    '/v1/participants': {
      post: {
        operationId: 'addParticipant', tag: 'portal', summary: 'Add a participant from its CSR',
        description: 'As `gateway participants add --csr`: the CA takes only the public key of the CSR (its self-signature must verify) and writes the subject itself. Audited.',
        roles: ['operator'],
        requestBody: jsonRequest('NewParticipantRequest', 'The participant and its CSR.'),
        responses: { 201: { description: 'The participant and its certificate.', content: json('NewParticipant') } },
        problems: [...JSON_BODY, 'body_too_large', 'invalid_argument', 'invalid_csr', 'participant_exists', ...AUDITED],
      },
      get: {
        operationId: 'listParticipants', tag: 'portal', summary: 'Every participant', roles: ['operator'],
        responses: { 200: { description: 'The participants.', content: json('ParticipantList') } },
      },
    },
    '/v1/participants/{participantId}/status': {
      post: {
        operationId: 'changeParticipantStatus', tag: 'portal', summary: 'Suspend, resume or revoke a participant',
        description: 'As `gateway participants suspend|resume|revoke`: audited before it is made; a revoked enterprise\'s consents end.',
        roles: ['operator'],
        parameters: [pathParameter('participantId', PARTICIPANT, 'the participant id')],
        requestBody: jsonRequest('StatusChangeRequest', 'The change.'),
        responses: { 200: { description: 'The participant after the change.', content: json('ParticipantSummary') } },
        problems: [...JSON_BODY, 'invalid_argument', 'not_found', 'invalid_status_change', ...AUDITED],
      },
    },
    '/v1/status': {
      get: {
        operationId: 'gatewayStatus', tag: 'operations', summary: 'The gateway\'s status, for its operator',
        description: 'Readiness and why not, the audit log\'s size, whether it is halted and its latest checkpoint, the signing and data keys (ids and dates, current or retired) and the CA certificate\'s expiry. Never key material.',
        roles: ['operator'],
        responses: { 200: { description: 'The status.', content: json('GatewayStatus') } },
      },
    },
    '/v1/misuse-flags': {
      get: {
        operationId: 'listMisuseFlags', tag: 'operations', summary: 'The misuse flags raised',
        description: 'As `gateway misuse flags` (docs/misuse.md): each flag the misuse rules wrote to the audit log — the rule, the bank, the counts, the window, whether it suspended the bank. Names no enterprise.',
        roles: ['operator'],
        parameters: [query('since', { type: 'string', format: 'date-time' }, 'only flags raised at or after this time')],
        responses: { 200: { description: 'The flags.', content: json('MisuseFlagList') } },
        problems: ['invalid_argument'],
      },
    },
    '/v1/batches': {
      get: {
        operationId: 'listBatches', tag: 'operations', summary: 'The batches received, newest first',
        description: 'As `gateway batches list`: each batch\'s id, dataset, source, row count, as-of date, time received, content hash and audit entry. Never a record.',
        roles: ['operator'],
        parameters: [query('limit', { type: 'integer', minimum: 1, maximum: 1000 }, 'how many (default 50)')],
        responses: { 200: { description: 'The batches.', content: json('BatchList') } },
        problems: ['invalid_argument'],
      },
    },
    '/portal/catalog.json': {
      get: {
        operationId: 'portalCatalog', tag: 'portal', summary: 'The question catalog the portal explains',
        description: 'Each question and pack with its plain-language title and description (zh, en), its answer type and the purposes it allows, and each monitor rule with its title, from policies/.',
        responses: { 200: { description: 'The catalog.', content: json('PortalCatalog') } },
      },
    },
    '/v1/ingest/{dataset}': {
      post: {
        operationId: 'ingestBatch', tag: 'ingest', summary: 'Push one batch of records',
        description: 'A source pushes one batch for a dataset it is bound to (CSV with a header row, NDJSON, or a JSON array of objects, by Content-Type; rows as in docs/data-catalog.md). All or nothing: one invalid row and nothing is stored. The same content again is a duplicate, not stored twice. Keep the signed receipt for reconciliation.',
        roles: ['source'],
        parameters: [
          pathParameter('dataset', ref('schemas', 'DatasetId'), 'the dataset'),
          query('as_of', DATE, 'the date the records describe (YYYY-MM-DD, not in the future); default today in Asia/Shanghai'),
          query('batch_id', { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' }, 'your id for the batch; default derived from dataset and content hash'),
          query('objection', STRING, 'the objection this batch corrects (docs/objections.md): closed with the batch, and the banks told before the answer'),
          ref('parameters', 'IdempotencyKey'),
        ],
        requestBody: {
          required: true,
          description: 'The batch, read as exact bytes (they are signed): no Content-Encoding.',
          content: {
            'text/csv': { schema: { type: 'string' } },
            'application/x-ndjson': { schema: { type: 'string' } },
            'application/ndjson': { schema: { type: 'string' } },
            'application/json': { schema: { type: 'array', items: { type: 'object' } } },
          },
        },
        responses: {
          201: { description: 'Stored.', content: json('IngestAnswer'), optionalHeaders: ['Idempotent-Replayed'] },
          200: { description: 'A duplicate of a stored batch (outcome duplicate); nothing new stored.', content: json('IngestAnswer'), optionalHeaders: ['Idempotent-Replayed'] },
        },
        problems: [
          'invalid_argument', 'unknown_dataset', 'dataset_not_permitted', 'idempotency_key_reused', 'idempotency_key_in_use',
          'invalid_encoding', 'empty_input', 'record_too_large', 'too_many_rows', 'malformed_input', 'invalid_header', 'invalid_rows',
          'batch_id_conflict', 'audit_entry_pending', 'not_found', 'objection_not_open', 'objection_not_permitted', 'correction_not_about_subject', 'decryption_failed',
          ...AUDITED, ...SIGNS,
        ],
      },
    },
    '/v1/audit/note-key': {
      get: {
        operationId: 'noteVerifierKey', tag: 'audit', summary: 'The checkpoint note verifier key',
        responses: { 200: { description: 'The C2SP signed-note verifier key, one line.', content: { 'text/plain': { type: 'string' } } } },
      },
    },
    '/v1/audit/checkpoint': {
      get: {
        operationId: 'latestCheckpoint', tag: 'audit', summary: 'The latest checkpoint',
        description: 'The latest C2SP tlog-checkpoint signed note (origin, tree size, root hash, signatures), followed by witness cosignature lines. Enterprises read it to check the inclusion proofs of the accesses to them.',
        roles: ['auditor', 'enterprise'],
        responses: { 200: { description: 'The checkpoint note.', content: { 'text/plain': { type: 'string' } }, headers: ['Audit-Index'] } },
        problems: ['not_found', ...AUDITED],
      },
    },
    '/v1/audit/entries': {
      get: {
        operationId: 'auditEntries', tag: 'audit', summary: 'Audit entries, paged and filtered',
        description: 'Entries with start ≤ index < end matching every filter given. An enterprise reads only the entries about itself.',
        roles: ['auditor', 'enterprise'],
        parameters: [
          query('start', INDEX, 'first index (default 0)'),
          query('end', INDEX, 'end index, exclusive (default and at most the current size)'),
          query('limit', { type: 'integer', minimum: 1, maximum: 1000 }, 'page size (default 100)'),
          query('subject', STRING, 'entries about this subject (an enterprise may name only itself)'),
          query('participant', STRING, 'entries by this actor'),
          query('consent', CONSENT_ID, 'entries about this consent'),
          query('kind', ref('schemas', 'AuditKind'), 'entries of this kind'),
          query('from', TIME_FILTER, 'recorded at or after this instant (an RFC 3339 UTC time, or a date: its 00:00 UTC)'),
          query('to', TIME_FILTER, 'recorded before this instant, exclusive (an RFC 3339 UTC time, or a date: its 00:00 UTC)'),
        ],
        responses: { 200: { description: 'A page of entries.', content: json('AuditEntries'), headers: ['Audit-Index'] } },
        problems: ['invalid_argument', 'role_not_allowed', ...AUDITED],
      },
    },
    '/v1/audit/proofs/inclusion': {
      get: {
        operationId: 'inclusionProof', tag: 'audit', summary: 'Inclusion proof of an entry', roles: ['auditor', 'enterprise'],
        description: 'An enterprise gets proofs only of entries about itself.',
        parameters: [query('index', INDEX, 'the entry', true), query('tree_size', { type: 'integer', minimum: 1 }, 'the tree size (> index, ≤ current size)', true)],
        responses: { 200: { description: 'The proof.', content: json('InclusionProof'), headers: ['Audit-Index'] } },
        problems: ['invalid_argument', 'not_found', ...AUDITED],
      },
    },
    '/v1/audit/proofs/consistency': {
      get: {
        operationId: 'consistencyProof', tag: 'audit', summary: 'Consistency proof between two tree sizes', roles: ['auditor', 'enterprise'],
        parameters: [query('first', { type: 'integer', minimum: 1 }, 'the earlier size', true), query('second', { type: 'integer', minimum: 1 }, 'the later size (≤ current size)', true)],
        responses: { 200: { description: 'The proof.', content: json('ConsistencyProof'), headers: ['Audit-Index'] } },
        problems: ['invalid_argument', ...AUDITED],
      },
    },
    '/v1/consents': {
      post: {
        operationId: 'grantConsent', tag: 'consents', summary: 'Grant a consent', roles: ['enterprise'],
        description: 'An enterprise submits a consent it signed, for one bank, one purpose, named questions and a bounded time.',
        requestBody: jsonRequest('ConsentGrant', 'The enterprise-signed consent.'),
        responses: { 201: { description: 'Granted; keep the signed receipt.', content: json('ConsentChange') } },
        problems: [
          ...JSON_BODY, 'consent_malformed', 'consent_signature_invalid', 'consent_subject_mismatch', 'consent_bank_unavailable',
          'question_unknown', 'purpose_not_allowed', 'consent_expired', 'consent_too_long', 'consent_duplicate',
          'consent_replaces_invalid', ...AUDITED, ...SIGNS,
        ],
      },
      get: {
        operationId: 'listConsents', tag: 'consents', summary: 'List consents', roles: ['enterprise', 'bank'],
        description: 'An enterprise lists the consents about itself, a bank those addressed to it, oldest first.',
        parameters: [query('cursor', { type: 'string', maxLength: 64 }, 'next_cursor of the previous page'), query('limit', { type: 'integer', minimum: 1, maximum: 500 }, 'page size (default 50)')],
        responses: { 200: { description: 'A page of consents.', content: json('ConsentPage') } },
        problems: ['invalid_argument'],
      },
    },
    '/v1/consents/{consentId}': {
      get: {
        operationId: 'readConsent', tag: 'consents', summary: 'Read a consent and its artefact', roles: ['enterprise', 'bank'],
        description: 'The same 404 whether the consent does not exist or is someone else\'s.',
        parameters: [CONSENT_ID_PARAMETER],
        responses: { 200: { description: 'The consent, with the enterprise-signed artefact.', content: json('ConsentDetail') } },
        problems: ['not_found'],
      },
    },
    '/v1/consents/{consentId}/revocation': {
      post: {
        operationId: 'revokeConsent', tag: 'consents', summary: 'Revoke a consent', roles: ['enterprise'],
        description: 'Ends an active consent; no answer is given under it afterwards. The body is empty.',
        parameters: [CONSENT_ID_PARAMETER],
        responses: { 200: { description: 'Revoked; keep the signed receipt.', content: json('ConsentChange') } },
        problems: ['not_found', 'consent_not_active', ...AUDITED, ...SIGNS],
      },
    },
    '/v1/consents/{consentId}/accesses': {
      get: {
        operationId: 'consentAccesses', tag: 'consents', summary: 'Who used a consent', roles: ['enterprise'],
        parameters: [CONSENT_ID_PARAMETER],
        responses: { 200: { description: 'The audit entries about the consent.', content: json('ConsentAccesses') } },
        problems: ['not_found', ...AUDITED],
      },
    },
    '/v1/verifications': {
      post: {
        operationId: 'verify', tag: 'verifications', summary: 'Ask questions about consenting subjects', roles: ['bank'],
        description: 'Fixed questions (docs/questions.md) about one or more subjects, each under a consent addressed to this bank; each item is answered or refused on its own, and the whole answer is one JWS signed by the gateway.',
        requestBody: jsonRequest('VerificationRequest', 'The questions (schemas/api/verification-request.v1.json).'),
        responses: { 200: { description: 'The signed answer; the items as in its payload.', content: json('VerificationAnswer'), headers: ['Audit-Index'] } },
        problems: [...JSON_BODY, 'invalid_argument', 'rate_limited', 'decryption_failed', ...AUDITED, ...SIGNS],
      },
    },
    '/v1/scorecards': {
      post: {
        operationId: 'submitScorecard', tag: 'scorecards', summary: 'Submit a scorecard for review', roles: ['bank'],
        description: 'Reviewed at once against policies/scorecard-review.json (docs/privacy.md, "Scorecards"): refused with every finding, or kept pending — inert until approved by the operator or a review rule.',
        requestBody: jsonRequest('Scorecard', 'The scorecard (schemas/api/scorecard.v1.json).'),
        responses: { 201: { description: 'Kept (pending, or approved by a review rule).', content: json('ScorecardView'), headers: ['Audit-Index'] } },
        problems: [...JSON_BODY, 'invalid_argument', 'scorecard_refused', 'scorecard_exists', ...AUDITED],
      },
    },
    '/v1/scorecards/{id}/versions/{version}': {
      get: {
        operationId: 'readScorecard', tag: 'scorecards', summary: 'A scorecard and its review state', roles: ['bank', 'enterprise'],
        description: 'The bank that submitted it sees it in any state; an enterprise sees an approved one, to know what it would consent to.',
        parameters: SCORECARD_PARAMETERS,
        responses: { 200: { description: 'The scorecard.', content: json('ScorecardView') } },
        problems: ['invalid_argument', 'not_found'],
      },
    },
    '/v1/scores': {
      post: {
        operationId: 'score', tag: 'scorecards', summary: 'Score consenting subjects with an approved scorecard', roles: ['bank'],
        description: 'Items batched as in verifications, each under a consent addressed to this bank that names the scorecard; one JWS signed by the gateway with a grade, reason codes and the scorecard\'s hash per item.',
        requestBody: jsonRequest('ScoreRequest', 'What to score (schemas/api/score-request.v1.json).'),
        responses: { 200: { description: 'The signed answer; the items as in its payload.', content: json('ScoreAnswer'), headers: ['Audit-Index'] } },
        problems: [...JSON_BODY, 'invalid_argument', 'rate_limited', 'decryption_failed', ...AUDITED, ...SIGNS],
      },
    },
    '/v1/scorecards/{id}/versions/{version}/backtests': {
      post: {
        operationId: 'backtest', tag: 'scorecards', summary: 'Evaluate an approved scorecard in aggregate', roles: ['bank'],
        description: 'Over the enterprises with an active consent to this bank naming the scorecard for the purpose: the grade distribution and, with enough outcome labels, ROC AUC and KS — never a subject\'s grade. Only above the minimum cohort, and only if the cohort and labels equal or differ enough from each earlier back-test.',
        parameters: SCORECARD_PARAMETERS,
        requestBody: jsonRequest('BacktestRequest', 'The purpose and outcome labels (schemas/api/backtest-request.v1.json).'),
        responses: { 200: { description: 'The signed aggregates.', content: json('BacktestAnswer'), headers: ['Audit-Index'] } },
        problems: [
          ...JSON_BODY, 'invalid_argument', 'not_found', 'purpose_not_allowed', 'cohort_too_small', 'backtest_too_similar', 'rate_limited', 'decryption_failed',
          ...AUDITED, ...SIGNS,
        ],
      },
    },
    '/v1/subscriptions': {
      post: {
        operationId: 'subscribe', tag: 'monitoring', summary: 'Watch a borrower', roles: ['bank'],
        description: `A bank subscribes to changes of one subject under one of its active ${MONITOR_PURPOSE} consents that covers the questions of the monitor rules chosen (all the rules it covers when none are named). The current answers are the baseline: no alert for what is already so.`,
        requestBody: jsonRequest('SubscriptionRequest', 'What to watch (schemas/api/subscription-request.v1.json).'),
        responses: { 201: { description: 'Subscribed.', content: json('SubscriptionView') } },
        problems: [
          ...JSON_BODY, 'invalid_argument', 'consent_missing', 'consent_not_active', 'purpose_not_allowed', 'question_not_covered',
          'monitor_rule_unknown', 'subscription_exists', 'decryption_failed', ...AUDITED,
        ],
      },
      get: {
        operationId: 'listSubscriptions', tag: 'monitoring', summary: 'List the bank\'s subscriptions', roles: ['bank'],
        parameters: [query('cursor', { type: 'string', maxLength: 64 }, 'next_cursor of the previous page'), query('limit', { type: 'integer', minimum: 1, maximum: 1000 }, 'page size (default 100)')],
        responses: { 200: { description: 'A page of subscriptions.', content: json('SubscriptionPage') } },
        problems: ['invalid_argument'],
      },
    },
    '/v1/subscriptions/{subscriptionId}': {
      delete: {
        operationId: 'endSubscription', tag: 'monitoring', summary: 'End a subscription', roles: ['bank'],
        description: 'Ends the bank\'s own subscription (ending an ended one changes nothing); the same 404 for one that does not exist or is another bank\'s.',
        parameters: [pathParameter('subscriptionId', STRING, 'the subscription id')],
        responses: { 200: { description: 'The subscription, ended.', content: json('SubscriptionView') } },
        problems: ['not_found', ...AUDITED],
      },
    },
    '/v1/report-templates': {
      get: {
        operationId: 'reportTemplates', tag: 'reports', summary: 'The credit report templates',
        description: 'One per lending stage (policies/reports/): the questions, in order, under their headings, and each template\'s hash.',
        responses: { 200: { description: 'The templates.', content: json('ReportTemplates') } },
      },
    },
    '/v1/reports': {
      post: {
        operationId: 'createReport', tag: 'reports', summary: 'Make a credit report', roles: ['bank'],
        description: 'The report of one template about one subject, under a consent addressed to this bank for the template\'s stage that covers all its questions: evaluated in one unit of work, audited, signed, and returned with its audit entry, inclusion proof and checkpoint, to check offline (docs/reports.md).',
        requestBody: jsonRequest('ReportRequest', 'The report asked for (schemas/api/report-request.v1.json).'),
        responses: { 201: { description: 'The report; keep all of it.', content: json('ReportBundle'), headers: ['Audit-Index'] } },
        problems: [
          ...JSON_BODY, 'invalid_argument', 'report_template_unknown', 'consent_missing', 'consent_not_active', 'purpose_not_allowed',
          'question_not_covered', 'rate_limited', 'decryption_failed', ...AUDITED, ...SIGNS,
        ],
      },
    },
    '/v1/reports/{reportId}': {
      get: {
        operationId: 'readReport', tag: 'reports', summary: 'A report this bank was given, again', roles: ['bank'],
        parameters: [pathParameter('reportId', { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' }, 'the report id')],
        responses: { 200: { description: 'The report as first returned.', content: json('ReportBundle') } },
        problems: ['not_found'],
      },
    },
    '/v1/reports/{reportId}/pdf': {
      get: {
        operationId: 'reportPdf', tag: 'reports', summary: 'The report rendered in Chinese (PDF)', roles: ['bank'],
        parameters: [pathParameter('reportId', { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' }, 'the report id')],
        responses: { 200: { description: 'The PDF: every answer with its date and status, the consent, the audit index and a QR code to check it.', content: { 'application/pdf': { type: 'string' } } } },
        problems: ['not_found', 'report_pdf_unavailable'],
      },
    },
    '/v1/reports/{reportId}/check': {
      get: {
        operationId: 'checkReport', tag: 'reports', summary: 'Check a report from its link',
        description: 'What the QR code on a report leads to: the hash of the signed report, its audit index, inclusion proof and checkpoint — never the answers. The id is 128 random bits.',
        parameters: [pathParameter('reportId', { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' }, 'the report id')],
        responses: { 200: { description: 'The hashes and the proof.', content: json('ReportCheck') } },
        problems: ['not_found'],
      },
    },
    '/v1/support-policies': {
      get: {
        operationId: 'supportPolicies', tag: 'support', summary: 'The support policies',
        description: 'Subsidies and discounted loans (policies/support/), each with its department and its eligibility as conditions on answers to the catalog\'s questions, and its hash.',
        responses: { 200: { description: 'The policies.', content: json('SupportPolicies') } },
      },
    },
    '/v1/support-policies/eligibility': {
      get: {
        operationId: 'supportEligibility', tag: 'support', summary: 'This enterprise\'s eligibility for every support policy', roles: ['enterprise'],
        description: 'Evaluated inside over the enterprise\'s own records, audited about it, and signed for the enterprise — or, with `bank`, for that bank: the enterprise passes its eligibility on by forwarding the signed result.',
        parameters: [query('bank', { type: 'string', pattern: '^[a-z][a-z0-9-]{2,63}$' }, 'an active bank to sign the result for')],
        responses: { 200: { description: 'The signed eligibility.', content: json('SupportEligibility'), headers: ['Audit-Index'] } },
        problems: ['invalid_argument', 'decryption_failed', ...AUDITED, ...SIGNS],
      },
    },
    '/v1/support-policies/{policyId}/counts': {
      get: {
        operationId: 'supportCounts', tag: 'support', summary: 'How many registered enterprises are eligible', roles: ['source', 'auditor'],
        description: 'For a participant the policy names as an owner: counts of eligible, not eligible and unknown over the registered enterprises, cells below GATEWAY_SUPPORT_MIN_CELL suppressed (null).',
        parameters: [pathParameter('policyId', { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' }, 'the support policy id')],
        responses: { 200: { description: 'The counts, and the same signed.', content: json('SupportCounts'), headers: ['Audit-Index'] } },
        problems: ['invalid_argument', 'not_found', 'support_policy_not_owned', 'decryption_failed', ...AUDITED, ...SIGNS],
      },
    },
    '/v1/objections': {
      post: {
        operationId: 'raiseObjection', tag: 'objections', summary: 'Object to records about this enterprise', roles: ['enterprise'],
        description: 'Against all its records in a dataset, or those behind an answer it saw among its accesses; with a reason and optional evidence. While open, answers, reports and alerts reading those datasets about it say disputed.',
        requestBody: jsonRequest('ObjectionRequest', 'The objection (schemas/api/objection-request.v1.json).'),
        responses: { 201: { description: 'Raised.', content: json('ObjectionView'), headers: ['Audit-Index'] } },
        problems: [...JSON_BODY, 'invalid_argument', 'body_too_large', 'objection_target_invalid', 'decryption_failed', ...AUDITED],
      },
      get: {
        operationId: 'listObjections', tag: 'objections', summary: 'List objections', roles: ['enterprise', 'source'],
        description: 'An enterprise lists its own; a source its queue: those about a dataset it feeds. Oldest first.',
        parameters: [
          query('state', { enum: Object.keys(OBJECTION_STATES) }, 'only objections in this state'),
          query('cursor', { type: 'string', maxLength: 64 }, 'next_cursor of the previous page'),
          query('limit', { type: 'integer', minimum: 1, maximum: 500 }, 'page size (default 50)'),
        ],
        responses: { 200: { description: 'A page of objections (evidence without its content).', content: json('ObjectionPage') } },
        problems: ['invalid_argument'],
      },
    },
    '/v1/objections/{objectionId}': {
      get: {
        operationId: 'readObjection', tag: 'objections', summary: 'An objection, its evidence and its history', roles: ['enterprise', 'source'],
        description: 'The same 404 whether it does not exist or is not the caller\'s to see.',
        parameters: [pathParameter('objectionId', STRING, 'the objection id')],
        responses: { 200: { description: 'The objection.', content: json('ObjectionView') } },
        problems: ['not_found'],
      },
    },
    '/v1/objections/{objectionId}/resolution': {
      post: {
        operationId: 'confirmObjection', tag: 'objections', summary: 'Confirm the records stand', roles: ['source'],
        description: 'A source that feeds one of its datasets closes an open objection without change. To correct instead, ingest a batch with ?objection=.',
        parameters: [pathParameter('objectionId', STRING, 'the objection id')],
        requestBody: jsonRequest('ObjectionResolution', 'The confirmation (schemas/api/objection-resolution.v1.json).'),
        responses: { 200: { description: 'Confirmed.', content: json('ObjectionView') } },
        problems: [...JSON_BODY, 'invalid_argument', 'not_found', 'objection_not_open', ...AUDITED],
      },
    },
    '/v1/alerts': {
      get: {
        operationId: 'alertFeed', tag: 'monitoring', summary: 'The bank\'s signed events, as a pull feed',
        description: 'Events after the cursor, oldest first, each signed by the gateway (the same JWS a webhook delivery carries; its jti is the event id, for deduplication).',
        roles: ['bank'],
        parameters: [query('after', { type: 'string', maxLength: 64 }, 'the cursor of the last event read (next_cursor)'), query('limit', { type: 'integer', minimum: 1, maximum: 1000 }, 'page size (default 100)')],
        responses: { 200: { description: 'A page of events.', content: json('AlertFeed') } },
        problems: ['invalid_argument', ...AUDITED, ...SIGNS],
      },
    },
  };
}

function paths(): Record<string, Json> {
  return Object.fromEntries(Object.entries(operations()).map(([template, methods]) => [template, {
    parameters: [ref('parameters', 'RequestId')],
    ...Object.fromEntries(Object.entries(methods).map(([method, spec]) => [method, operation(spec)])),
  }]));
}

/** The OpenAPI 3.1 document of this gateway's HTTP API. */
export function openApiDocument(): Json {
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'Credit data gateway',
      version: packageVersion(),
      summary: 'Records go in, only signed, audited answers come out.',
      description: [
        'Sources push records; enterprises grant consents to banks; banks ask fixed questions and get answers signed by the gateway, and watch borrowers for signed alerts; auditors (and enterprises, about themselves) read the audit log. Participant requests are signed (see the `signedRequest` security scheme and docs/request-signing.md).',
        `Every response carries \`${REQUEST_ID_HEADER}\`. Every failure is an RFC 9457 problem (\`${PROBLEM_MEDIA_TYPE}\`) with type \`${PROBLEM_TYPE_PREFIX}<code>\`, a stable \`code\` and the \`request_id\`. A path not listed here answers 404 \`not_found\`, and so does a method not listed for a path, but for HEAD (answered for every GET, without a body) and OPTIONS (answered by the framework with \`Allow\`). The codes:`,
        problemTable(),
      ].join('\n\n'),
    },
    tags: [
      { name: 'health', description: 'Liveness, readiness and metrics.' },
      { name: 'meta', description: 'This description.' },
      { name: 'identity', description: 'Public documents for checking signatures.', externalDocs: { url: 'docs/request-signing.md' } },
      { name: 'ingest', description: 'Sources push records.', externalDocs: { url: 'docs/ingestion.md' } },
      { name: 'audit', description: 'The transparency log of everything done.', externalDocs: { url: 'docs/audit.md' } },
      { name: 'consents', description: 'Enterprises authorise banks.', externalDocs: { url: 'docs/consent.md' } },
      { name: 'verifications', description: 'Banks ask questions.', externalDocs: { url: 'docs/questions.md' } },
      { name: 'monitoring', description: 'Banks watch borrowers and receive signed alerts.', externalDocs: { url: 'docs/monitoring.md' } },
      { name: 'scorecards', description: 'Banks have their scorecards evaluated inside the gateway.', externalDocs: { url: 'docs/modelling.md' } },
      { name: 'reports', description: 'Banks get signed credit reports for a lending stage.', externalDocs: { url: 'docs/reports.md' } },
      { name: 'objections', description: 'Enterprises dispute records; sources confirm or correct them.', externalDocs: { url: 'docs/objections.md' } },
      { name: 'support', description: 'Support policies: enterprises learn their eligibility, departments only counts.', externalDocs: { url: 'docs/support.md' } },
      { name: 'portal', description: 'Enrolment and the registry, for the web portal at /portal/.', externalDocs: { url: 'docs/portal.md' } },
      { name: 'operations', description: 'The operator\'s view of the running gateway: status, keys, batches.', externalDocs: { url: 'docs/operations.md' } },
    ],
    paths: paths(),
    components: {
      schemas: schemas(),
      headers: headers(),
      parameters: parameters(),
      securitySchemes: securitySchemes(),
    },
  };
}
