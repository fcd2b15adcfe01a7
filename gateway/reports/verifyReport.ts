/**
 * The offline check of a saved credit report (`gateway report verify FILE`): the body of POST /v1/reports or
 * GET /v1/reports/{id}, checked with nothing but public material the checker trusts — the gateway's JWKS, the audit
 * log's note verifier key and the policies/ files:
 *
 *   signature   the JWS verifies with a key of the JWKS, typ gateway-report+jwt, alg ES256, and has not expired
 *   template    the template it names is the local one, byte for byte (its hash), and so is every question
 *   audit entry the logged entry is the report's own (its leaf hash is in the signed report; it holds the same answers)
 *   checkpoint  the checkpoint is signed by the log's key, for the log's origin, for the tree the proof leads to
 *   inclusion   the entry is in that tree (RFC 9162 inclusion proof)
 *
 * Every member of the file comes from outside, so each is checked before it is used; a check that cannot run fails.
 */
import { isDeepStrictEqual } from 'node:util';
import { parseCheckpoint } from '../audit/checkpoint.js';
import { parseProofFile } from '../audit/proofFile.js';
import type { InclusionProofFile } from '../audit/proofFile.js';
import { verifyInclusion } from '../audit/verify.js';
import { GATEWAY_ALGORITHM, verifyWithKeySet } from '../crypto/jws.js';
import type { JSONWebKeySet } from '../crypto/jws.js';
import { hashesEqual, leafHash } from '../crypto/merkleHash.js';
import { openNote, parseVerifierKey } from '../crypto/note.js';
import { GatewayError } from '../errors/index.js';
import type { QuestionCatalog, ReportTemplates } from '../policies/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { ReportClaims } from './reports.js';

export type ReportCheckName = 'signature' | 'template' | 'audit_entry' | 'checkpoint' | 'inclusion';

export interface ReportCheckResult {
  readonly check: ReportCheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ReportVerification {
  readonly ok: boolean;
  readonly checks: readonly ReportCheckResult[];
  /** The signed claims, once the signature verified. */
  readonly claims: ReportClaims | undefined;
}

export interface ReportTrust {
  readonly jwks: JSONWebKeySet;
  /** The audit log's note verifier key (GET /v1/audit/note-key). */
  readonly verifierKey: string;
  /** The audit log's origin; default: the verifier key's name. */
  readonly origin?: string | undefined;
  readonly templates: ReportTemplates;
  readonly catalog: QuestionCatalog;
  readonly now?: Date;
}

interface Bundle {
  readonly report: string;
  readonly entry: string;
  readonly proof: InclusionProofFile;
  readonly checkpoint: string;
}

function malformed(what: string): GatewayError {
  return new GatewayError('invalid_argument', `the report file ${what}`);
}

/** The file's members, checked for shape; throws invalid_argument when it is not a report file at all. */
export function parseReportFile(text: string): Bundle {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw malformed('is not JSON');
  }
  if (typeof body !== 'object' || body === null) throw malformed('is not a JSON object');
  const { report, audit } = body as { report?: unknown; audit?: unknown };
  if (typeof report !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(report)) throw malformed('has no "report" compact JWS');
  if (typeof audit !== 'object' || audit === null) throw malformed('has no "audit" object');
  const { entry, inclusion_proof: proof, checkpoint } = audit as { entry?: unknown; inclusion_proof?: unknown; checkpoint?: unknown };
  if (typeof entry !== 'string') throw malformed('has no "audit.entry" string');
  if (typeof checkpoint !== 'string') throw malformed('has no "audit.checkpoint" string');
  if (typeof proof !== 'object' || proof === null) throw malformed('has no "audit.inclusion_proof" object');
  return { report, entry, checkpoint, proof: parseProofFile('inclusion', JSON.stringify(proof)) as InclusionProofFile };
}

export async function verifyReportFile(text: string, trust: ReportTrust): Promise<ReportVerification> {
  const bundle = parseReportFile(text);
  const checks: ReportCheckResult[] = [];
  const record = (check: ReportCheckName, run: () => string) => {
    try {
      checks.push({ check, ok: true, detail: run() });
    } catch (error) {
      checks.push({ check, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  };

  let claims: ReportClaims | undefined;
  let kid = '';
  try {
    const verified = await verifyWithKeySet(bundle.report, trust.jwks);
    if (verified.header.typ !== SIGNED_TYPES.report || verified.header.alg !== GATEWAY_ALGORITHM) {
      throw new Error(`the JWS is a ${String(verified.header.typ)} signed ${String(verified.header.alg)}, not a ${SIGNED_TYPES.report} signed ${GATEWAY_ALGORITHM}`);
    }
    const parsed = JSON.parse(Buffer.from(verified.payload).toString('utf8')) as ReportClaims & { exp?: unknown };
    kid = String(verified.header.kid);
    const nowSeconds = Math.floor((trust.now ?? new Date()).getTime() / 1000);
    if (typeof parsed.exp !== 'number' || parsed.exp <= nowSeconds) throw new Error('the signature has expired (exp)');
    claims = parsed;
    checks.push({ check: 'signature', ok: true, detail: `signed by gateway key ${kid}` });
  } catch (error) {
    checks.push({ check: 'signature', ok: false, detail: error instanceof Error ? error.message : String(error) });
  }
  if (!claims) return { ok: false, checks, claims: undefined };
  const signed = claims;

  record('template', () => {
    const template = trust.templates.get(signed.template.id);
    if (template.version !== signed.template.version || template.definitionHash !== signed.template.definition_hash) {
      throw new Error(`the report was made from ${signed.template.id} v${signed.template.version} (${signed.template.definition_hash}); `
        + `the local template is v${template.version} (${template.definitionHash})`);
    }
    const expected = template.questions.map((question) => question.id);
    if (!isDeepStrictEqual(signed.answers.map((answer) => answer.id), expected)) throw new Error('the answers are not the template\'s questions in its order');
    for (const answer of signed.answers) {
      const question = trust.catalog.get(answer.id);
      if (question.version !== answer.version || question.definitionHash !== answer.definition_hash) {
        throw new Error(`question ${answer.id} v${answer.version} is not the local definition (v${question.version})`);
      }
    }
    return `${template.id} v${template.version}, ${expected.length} questions, all as defined in policies/`;
  });

  record('audit_entry', () => {
    const entryBytes = Buffer.from(bundle.entry, 'utf8');
    const leaf = leafHash(entryBytes);
    if (!hashesEqual(leaf, Buffer.from(signed.audit.leaf_hash, 'base64'))) throw new Error('the entry is not the one whose hash the report carries');
    if (!hashesEqual(leaf, bundle.proof.leafHash)) throw new Error('the proof is for another entry');
    if (bundle.proof.leafIndex !== BigInt(signed.audit.index)) throw new Error(`the proof is for index ${bundle.proof.leafIndex}, the report's entry is ${signed.audit.index}`);
    const entry = JSON.parse(bundle.entry) as Record<string, unknown>;
    if (entry['kind'] !== 'report.generated' || entry['report_id'] !== signed.report_id) throw new Error('the entry is not this report\'s report.generated');
    if (entry['template_hash'] !== signed.template.definition_hash || entry['subject'] !== signed.subject.uscc) {
      throw new Error('the entry names another template or subject');
    }
    if (!isDeepStrictEqual(entry['questions'], signed.answers)) throw new Error('the entry holds other answers than the report');
    return `index ${signed.audit.index}, the report's own report.generated entry with the same answers`;
  });

  record('checkpoint', () => {
    const verifier = parseVerifierKey(trust.verifierKey);
    const opened = openNote(Buffer.from(bundle.checkpoint, 'utf8'), [verifier]);
    const checkpoint = parseCheckpoint(opened.text);
    const origin = trust.origin ?? verifier.name;
    if (checkpoint.origin !== origin) throw new Error(`the checkpoint is of log "${checkpoint.origin}", not "${origin}"`);
    if (checkpoint.size !== bundle.proof.treeSize || !hashesEqual(checkpoint.rootHash, bundle.proof.rootHash)) {
      throw new Error('the checkpoint is not of the tree the proof leads to');
    }
    return `signed by ${verifier.name}, tree size ${checkpoint.size}`;
  });

  record('inclusion', () => {
    verifyInclusion(bundle.proof.leafIndex, bundle.proof.treeSize, bundle.proof.leafHash, bundle.proof.proof, bundle.proof.rootHash);
    return `entry ${bundle.proof.leafIndex} is in the tree of size ${bundle.proof.treeSize}`;
  });

  return { ok: checks.every((check) => check.ok), checks, claims };
}
