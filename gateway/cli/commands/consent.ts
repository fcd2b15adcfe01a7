/**
 * `gateway consent`: an enterprise grants, revokes and watches consents, a bank lists them, through a running
 * gateway (--url or GATEWAY_URL) with the participant's key (--key and --cert, or the keys directory); and
 * `consent verify` checks a stored consent artefact offline, with nothing but the platform CA certificate.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PURPOSES, verifyConsentOffline } from '../../consent/index.js';
import type { Purpose } from '../../consent/index.js';
import { certificateFacts } from '../../crypto/x509.js';
import { GatewayError } from '../../errors/index.js';
import { CA_FILES } from '../../identity/index.js';
import { guarded, positiveInteger, report } from '../output.js';
import type { CommandContext } from '../context.js';
import { actingAs, allPages, clientFor, credentialsFor } from './client.js';
import type { ParticipantOptions } from './client.js';

interface GrantOptions extends ParticipantOptions {
  bank: string;
  purpose: string;
  questions: string;
  days: string;
  maxUses?: string;
  replaces?: string;
}


/** An operator's reason goes into the audit log as given: printable text only, so that the log shows what was meant. */
function checkReason(reason: string | undefined): string {
  if (reason === undefined) throw new GatewayError('invalid_argument', '--by-operator needs --reason <text>, recorded in the audit log');
  const trimmed = reason.trim();
  if (trimmed.length === 0 || [...trimmed].length > 200 || /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u.test(trimmed)) {
    throw new GatewayError('invalid_argument', '--reason must be 1-200 characters without control, format or separator characters');
  }
  return trimmed;
}

export function registerConsent(consent: Command, context: CommandContext): void {
  actingAs(consent.command('grant'), 'enterprise')
    .description('sign a consent as an enterprise and submit it; prints the new consent id')
    .requiredOption('--bank <id>', 'the bank participant it is for')
    .requiredOption('--purpose <purpose>', PURPOSES.join(', '))
    .requiredOption('--questions <ids>', 'comma-separated question ids or question packs')
    .requiredOption('--days <n>', 'how long it lasts')
    .option('--max-uses <n>', 'answers the bank may receive under it, at most')
    .option('--replaces <id>', 'an active consent of the same enterprise that this one supersedes')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (options: GrantOptions) => {
      if (!(PURPOSES as readonly string[]).includes(options.purpose)) throw new GatewayError('invalid_argument', `--purpose must be one of ${PURPOSES.join(', ')}`);
      const credentials = credentialsFor(context, options);
      const uscc = certificateFacts(credentials.certificatePem).uscc;
      if (!uscc) throw new GatewayError('invalid_argument', `participant "${options.as}" is not an enterprise (its certificate carries no USCC)`);
      const granted = await clientFor(context, options, credentials).grantConsent({
        uscc, bank: options.bank, purpose: options.purpose as Purpose,
        questions: options.questions.split(',').map((question) => question.trim()).filter(Boolean),
        days: positiveInteger('--days', options.days),
        maxUses: options.maxUses === undefined ? undefined : positiveInteger('--max-uses', options.maxUses),
        replaces: options.replaces,
      });
      const id = String(granted.consent['consent_id']);
      report(options, { id, consent: granted.consent, receipt: granted.receipt }, () => id);
    }));
  const revoke = actingAs(consent.command('revoke <id>'), 'enterprise')
    .description('revoke a consent, effective for the very next request: as its enterprise (through the gateway), or as the operator on this host')
    .option('--by-operator', 'the operator ends the consent, whoever it concerns, in this gateway home (audited with --reason; no --as)', false)
    .option('--reason <text>', 'with --by-operator: why, recorded in the audit log (1-200 characters)')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (id: string, options: ParticipantOptions & { byOperator: boolean; reason?: string }) => {
      if (!options.byOperator) {
        if ((options.as as string | undefined) === undefined) throw new GatewayError('invalid_argument', 'give --as <participant> (the enterprise), or --by-operator --reason <text>');
        if (options.reason !== undefined) throw new GatewayError('invalid_argument', '--reason goes with --by-operator');
        const revoked = await clientFor(context, options).revokeConsent(id);
        report(options, revoked, () => `consent ${id} is ${String(revoked.consent['state'])}`);
        return;
      }
      const reason = checkReason(options.reason);
      const runtime = await context.open();
      try {
        const revoked = await runtime.consents.revokeByOperator(id, reason);
        report(options, { consent: revoked }, () => `consent ${id} is ${revoked.state} (by the operator: ${reason})`);
      } finally {
        await runtime.close();
      }
    }));
  // The operator acts as no participant: --as is needed only without --by-operator (checked above).
  revoke.options.find((option) => option.long === '--as')?.makeOptionMandatory(false);
  actingAs(consent.command('list'), 'enterprise or bank')
    .description('an enterprise\'s consents, or those addressed to a bank')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: ParticipantOptions) => {
      const consents = await allPages<Record<string, unknown>>(clientFor(context, options), '/v1/consents', 'consents');
      report(options, consents, () => consents.map((item) =>
        `${String(item['consent_id'])}  ${String(item['state']).padEnd(9)} ${String(item['purpose']).padEnd(22)} bank ${String(item['bank'])}  until ${String(item['expires_at'])}  uses ${String(item['uses'])}`,
      ).join('\n') || 'no consents');
    }));
  actingAs(consent.command('accesses <id>'), 'enterprise')
    .description('every access made under a consent, from the audit log (reading it is itself logged)')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (id: string, options: ParticipantOptions) => {
      const answer = (await clientFor(context, options).send('GET', `/v1/consents/${encodeURIComponent(id)}/accesses`))
        .json<{ entries: { index: number; kind: string; actor: string; recorded_at: string }[] }>();
      report(options, answer, () => answer.entries.map((entry) => `#${entry.index}  ${entry.recorded_at}  ${entry.kind.padEnd(24)} by ${entry.actor}`).join('\n') || 'no accesses');
    }));
  consent
    .command('export <id>')
    .description('operator: print a stored consent artefact (compact JWS), e.g. for an auditor to check with `consent verify`')
    .action(guarded(async (id: string) => {
      const runtime = await context.open();
      try {
        process.stdout.write(`${await runtime.consents.exportArtefact(id)}\n`);
      } finally {
        await runtime.close();
      }
    }));
  consent
    .command('verify <file>')
    .description('check offline that a consent artefact (compact JWS) was signed by the enterprise named in it')
    .option('--ca <file>', 'the platform CA certificate (default: ca.cert.pem in the keys directory)')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (file: string, options: { ca?: string; json: boolean }) => {
      const caFile = options.ca ?? path.join(context.config().keysDir, CA_FILES.certificate);
      const token = fs.readFileSync(file, 'utf8').trim();
      const verified = await verifyConsentOffline(token, fs.readFileSync(caFile, 'utf8'));
      const { claims } = verified;
      report(options, { valid: true, claims, certificate_sha256: verified.certificateSha256 }, () =>
        `valid: consent ${claims.jti} signed by enterprise ${claims.iss} (${claims.sub}) for bank ${claims.aud}, ${claims.purpose}, ` +
        `${new Date(claims.nbf * 1000).toISOString()} to ${new Date(claims.exp * 1000).toISOString()}`);
    }));
}
