/**
 * Credit reports and objections on the command line (docs/reports.md, docs/objections.md):
 *   gateway client report …        a bank fetches a report from a running gateway (saved as JSON, and as PDF)
 *   gateway report verify FILE     checks a saved report offline; exit 0 valid, 1 a check failed, 2 not a report file
 *   gateway objections list        the operator's view of objections, overdue ones above all
 *
 * `report verify` needs no secret: the JWKS and note verifier key come from the command line (as published at
 * /.well-known/jwks.json and /v1/audit/note-key) or, on the gateway's host, from the keys directory.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { JSONWebKeySet } from '../../crypto/jws.js';
import { GatewayError } from '../../errors/index.js';
import { loadNoteKey, openSigningKeys } from '../../keys/index.js';
import { loadQuestionCatalog, loadReportTemplates } from '../../policies/index.js';
import { verifyReportFile } from '../../reports/index.js';
import type { ReportVerification } from '../../reports/index.js';
import type { ObjectionState } from '../../store/index.js';
import { guarded, positiveInteger, report, reportFailure } from '../output.js';
import type { CommandContext } from '../context.js';
import { actingAs, clientFor } from './client.js';
import type { ParticipantOptions } from './client.js';

/** Exit code of `report verify` for a file that is not a report file. */
const EXIT_MALFORMED = 2;
const STATES: readonly ObjectionState[] = ['open', 'confirmed', 'corrected'];

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new GatewayError('invalid_argument', `cannot read the ${what} file ${file}`, { cause });
  }
}

function describeVerification(file: string, verification: ReportVerification): string {
  const claims = verification.claims;
  const heading = claims
    ? `report ${claims.report_id} (${claims.template.id} v${claims.template.version}) about ${claims.subject.name} ${claims.subject.uscc}`
      + `${claims.disputed ? ', with disputed answers' : ''}`
    : `report file ${file}`;
  return [
    `${heading}: ${verification.ok ? 'VALID' : 'INVALID'}`,
    ...verification.checks.map((check) => `  ${check.ok ? 'ok  ' : 'FAIL'} ${check.check.padEnd(12)} ${check.detail}`),
  ].join('\n');
}

/** `gateway client report`, under `gateway client`. */
export function registerClientReport(client: Command, context: CommandContext): void {
  actingAs(client.command('report'), 'bank')
    .description('fetch a credit report as a bank, verify its signature, and save it (JSON for `gateway report verify`, and PDF)')
    .requiredOption('--template <id>', 'a report template of policies/reports/ (e.g. pre_loan_investigation)')
    .requiredOption('--subject <uscc>', 'the enterprise\'s USCC')
    .requiredOption('--consent <id>', 'the consent the enterprise gave this bank for the template\'s stage')
    .requiredOption('--out <file>', 'where to save the report (JSON)')
    .option('--pdf <file>', 'also save the rendered PDF here')
    .option('--loan-reference <reference>', 'the application or loan number (logged and printed on the report)', 'unspecified')
    .option('--officer <name>', 'who at the bank asks (logged and printed on the report)', 'cli')
    .option('--json', 'print the verified claims as JSON', false)
    .action(guarded(async (options: ParticipantOptions & {
      template: string; subject: string; consent: string; out: string; pdf?: string; loanReference: string; officer: string;
    }) => {
      const gateway = clientFor(context, options);
      const { bundle, verified } = await gateway.report({
        template: options.template, uscc: options.subject, consentId: options.consent, loanReference: options.loanReference, officer: options.officer,
      });
      fs.writeFileSync(options.out, `${JSON.stringify(bundle, null, 2)}\n`);
      if (options.pdf) fs.writeFileSync(options.pdf, await gateway.reportPdf(bundle.report_id));
      const claims = verified.claims as { disputed?: boolean; answers?: unknown[] };
      report(options, { report_id: bundle.report_id, saved: options.out, pdf: options.pdf ?? null, claims: verified.claims }, () => [
        `report ${bundle.report_id} verified with gateway key ${verified.kid}: ${claims.answers?.length ?? 0} answers${claims.disputed ? ', some disputed' : ''}`,
        `saved to ${options.out}${options.pdf ? ` and ${options.pdf}` : ''}; check it offline with: gateway report verify ${options.out}`,
      ].join('\n'));
    }));
}

/** `gateway report verify`. */
export function registerReport(reports: Command, context: CommandContext): void {
  reports
    .command('verify <file>')
    .description('check a saved report offline: signature, template hash, audit entry, checkpoint and inclusion proof; exit 0 valid, 1 invalid, 2 not a report file')
    .option('--jwks <file>', 'the gateway\'s JWKS (GET /.well-known/jwks.json); default: from the keys directory')
    .option('--verifier-key <key>', 'the audit log\'s note verifier key (GET /v1/audit/note-key); default: from the keys directory')
    .option('--origin <origin>', 'the audit log\'s origin; default: the verifier key\'s name')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (file: string, options: { jwks?: string; verifierKey?: string; origin?: string; json: boolean }) => {
      const text = readText(file, 'report');
      const jwks = options.jwks === undefined ? { keys: openSigningKeys(context.config().keysDir, context.config().signatureLifetimeDays).published() }
        : JSON.parse(readText(options.jwks, 'JWKS')) as JSONWebKeySet;
      const verifierKey = options.verifierKey ?? loadNoteKey(context.config().keysDir, context.config().auditOrigin).verifierKey;
      const catalog = loadQuestionCatalog();
      let verification: ReportVerification;
      try {
        verification = await verifyReportFile(text, { jwks, verifierKey, origin: options.origin, templates: loadReportTemplates(catalog), catalog });
      } catch (error) {
        if (!(error instanceof GatewayError) || error.code !== 'invalid_argument') throw error;
        reportFailure(options, error);
        process.exitCode = EXIT_MALFORMED;
        return;
      }
      report(options, { valid: verification.ok, checks: verification.checks, claims: verification.claims ?? null }, () => describeVerification(file, verification));
      if (!verification.ok) process.exitCode = 1;
    }));
}

/** `gateway objections list`. */
export function registerObjections(objections: Command, context: CommandContext): void {
  objections
    .command('list')
    .description('list objections, flagging (and auditing) any whose deadline passed')
    .option('--state <state>', `one of ${STATES.join(', ')}, or "all"`, 'open')
    .option('--overdue', 'only open objections past their deadline', false)
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: { state: string; overdue: boolean; limit: string; json: boolean }) => {
      if (options.state !== 'all' && !(STATES as readonly string[]).includes(options.state)) {
        throw new GatewayError('invalid_argument', `--state must be one of ${STATES.join(', ')} or all`);
      }
      const limit = positiveInteger('--limit', options.limit);
      const runtime = await context.open();
      try {
        await runtime.objections.sweepOverdue();
        const rows = await runtime.objections.listAll({ state: options.state === 'all' ? undefined : options.state as ObjectionState, overdue: options.overdue }, limit);
        report(options, rows, () => rows.map((row) =>
          `${row.objection_id}  ${row.uscc}  ${row.state.padEnd(9)} ${row.overdue ? 'OVERDUE ' : ''}due ${row.due_at}  ${row.datasets.join(',')}`,
        ).join('\n') || 'no objections');
      } finally {
        await runtime.close();
      }
    }));
}
