/**
 * `gateway client`: act as a participant against a running gateway (GATEWAY_URL, default http://127.0.0.1:8080),
 * signing with the participant's key and certificate from the keys directory. Every answer the gateway signs is
 * verified against its JWKS before it is printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { GatewayClient } from '../../client/client.js';
import { CA_FILES, readParticipantFiles } from '../../identity/index.js';
import { formatOf } from './ingest.js';
import { guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';

interface ClientOptions {
  as: string;
  json: boolean;
}

/** A client signing as `participantId`, with its key and certificate from the keys directory. */
export function clientFor(context: CommandContext, participantId: string): GatewayClient {
  const config = context.config();
  const { privateKeyPem, certificatePem } = readParticipantFiles(config.keysDir, participantId);
  const caFile = path.join(config.keysDir, CA_FILES.certificate);
  return new GatewayClient({
    baseUrl: context.gatewayUrl(),
    credentials: { participantId, privateKeyPem, certificatePem },
    caCertificatePem: fs.existsSync(caFile) ? fs.readFileSync(caFile, 'utf8') : undefined,
    tlsClientCertificate: true,
  });
}

export function registerClient(client: Command, context: CommandContext): void {
  client
    .command('ingest <dataset> <file>')
    .description('push a batch as a source participant and verify the signed receipt')
    .requiredOption('--as <participant>', 'the source participant to sign as (its key and certificate are in the keys directory)')
    .option('--format <format>', 'csv, ndjson or json (default: from the file extension)')
    .option('--as-of <date>', 'the date the records describe (YYYY-MM-DD)')
    .option('--batch-id <id>', 'a batch id of your own')
    .option('--idempotency-key <key>', 'makes a retry safe: the same key and body return the first receipt')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (dataset: string, file: string, options: ClientOptions & { format?: string; asOf?: string; batchId?: string; idempotencyKey?: string }) => {
      const format = formatOf(file, options.format);
      const body = fs.readFileSync(file);
      const result = await clientFor(context, options.as).ingest(dataset, body, {
        format, asOf: options.asOf, batchId: options.batchId, idempotencyKey: options.idempotencyKey,
      });
      const claims = result.verified.claims;
      report(options, { status: result.status, replayed: result.replayed, receipt: result.receipt, signing_key: result.verified.kid, claims }, () => [
        `${String(claims['outcome'])}: batch ${String(claims['batch_id'])}, ${String(claims['row_count'])} rows of ${String(claims['dataset'])} as of ${String(claims['as_of'])}${result.replayed ? ' (replayed answer)' : ''}`,
        `receipt verified with gateway key ${result.verified.kid}:`,
        result.receipt,
      ].join('\n'));
    }));
  client
    .command('verify')
    .description('ask questions about a subject under a consent, as a bank; prints the signed answer (compact JWS)')
    .requiredOption('--as <bank>', 'the bank participant to sign as')
    .requiredOption('--subject <uscc>', 'the enterprise\'s USCC')
    .requiredOption('--consent <id>', 'the consent the enterprise gave this bank')
    .requiredOption('--questions <ids>', 'comma-separated question ids')
    .option('--loan-reference <reference>', 'the application or loan number (recorded in the audit log)', 'unspecified')
    .option('--officer <name>', 'who at the bank asks (recorded in the audit log)', 'cli')
    .option('--json', 'print the verified, decoded payload instead of the JWS', false)
    .action(guarded(async (options: ClientOptions & { subject: string; consent: string; questions: string; loanReference: string; officer: string }) => {
      const result = await clientFor(context, options.as).askQuestions({
        loanReference: options.loanReference,
        officer: options.officer,
        items: [{ uscc: options.subject, consentId: options.consent, questions: options.questions.split(',').map((id) => id.trim()).filter(Boolean) }],
      });
      const [item] = result.verified.claims['items'] as { status: string; code?: string }[];
      if (item?.status === 'refused') {
        // The gateway answered, signed, and refused: a script must see the refusal in the exit status.
        process.exitCode = 1;
        const message = `the gateway refused the question: ${item.code ?? 'refused'}`;
        if (options.json) report(options, { error: { code: item.code, message }, answer: result.verified.claims }, () => '');
        else process.stderr.write(`error (${item.code ?? 'refused'}): ${message}\n${result.answer}\n`);
        return;
      }
      report(options, { ...result.verified.claims }, () => result.answer);
    }));
  client
    .command('request <method> <path>')
    .description('send any signed request and print the answer (e.g. GET /v1/ca)')
    .requiredOption('--as <participant>', 'the participant to sign as')
    .option('--body-file <file>', 'request body')
    .option('--content-type <type>', 'Content-Type of the body', 'application/json')
    .option('--json', 'print status, headers and body as JSON', false)
    .action(guarded(async (method: string, requestPath: string, options: ClientOptions & { bodyFile?: string; contentType: string }) => {
      const body = options.bodyFile ? fs.readFileSync(options.bodyFile) : undefined;
      const response = await clientFor(context, options.as).send(method.toUpperCase(), requestPath, {
        body, headers: body ? { 'content-type': options.contentType } : {},
      });
      const text = response.body.toString('utf8');
      if (options.json) report(options, { status: response.status, request_id: response.requestId, body: text }, () => text);
      // The body exactly as received (a checkpoint note must keep its final newline, and gain no other), so that
      // `> file` saves what the gateway said.
      else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }));
}
