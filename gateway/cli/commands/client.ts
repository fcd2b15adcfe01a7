/**
 * `gateway client`: act as a participant against a running gateway (--url, else GATEWAY_URL, default
 * http://127.0.0.1:8080), signing with the participant's key and certificate (--key and --cert, else the keys
 * directory). Every answer the gateway signs is verified against its JWKS before it is printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { GatewayClient } from '../../client/client.js';
import type { ParticipantCredentials } from '../../client/client.js';
import { GatewayError } from '../../errors/index.js';
import { CA_FILES, readParticipantFiles } from '../../identity/index.js';
import { SIGNED_TYPES } from '../../signing/signer.js';
import { formatOf } from './ingest.js';
import { registerClientReport } from './reports.js';
import { guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';

/** Who acts, and where: the options of every command that talks to a running gateway as a participant. */
export interface ParticipantOptions {
  readonly as: string;
  readonly url?: string;
  readonly key?: string;
  readonly cert?: string;
  readonly ca?: string;
  readonly json: boolean;
}

/** Adds --as (required), --url, --key, --cert and --ca to a command; `role` names who may act, if only some may. */
export function actingAs(command: Command, role?: string): Command {
  return command
    .requiredOption('--as <participant>', `the ${role ? `${role} ` : ''}participant to sign as`)
    .option('--url <url>', 'the gateway to talk to (default: GATEWAY_URL, else http://127.0.0.1:8080)')
    .option('--key <file>', 'the participant\'s private key, PEM (default: participants/<id>.key.pem in the keys directory)')
    .option('--cert <file>', 'the participant\'s certificate, PEM (default: participants/<id>.cert.pem in the keys directory)')
    .option('--ca <file>', 'https: the platform CA certificate to trust (default: ca.cert.pem in the keys directory; with --key and --cert, the system\'s)');
}

/** The participant's key and certificate: from --key and --cert, else from the keys directory. */
export function credentialsFor(context: CommandContext, options: ParticipantOptions): ParticipantCredentials {
  if ((options.key === undefined) !== (options.cert === undefined)) {
    throw new GatewayError('invalid_argument', 'give --key and --cert together, or neither to use the keys directory');
  }
  if (options.key !== undefined && options.cert !== undefined) {
    return { participantId: options.as, privateKeyPem: fs.readFileSync(options.key, 'utf8'), certificatePem: fs.readFileSync(options.cert, 'utf8') };
  }
  return { participantId: options.as, ...readParticipantFiles(context.config().keysDir, options.as) };
}

function trustAnchor(context: CommandContext, options: ParticipantOptions): string | undefined {
  if (options.ca !== undefined) return fs.readFileSync(options.ca, 'utf8');
  // With a key and certificate of its own, the participant need not have the gateway's home at all.
  if (options.key !== undefined) return undefined;
  const caFile = path.join(context.config().keysDir, CA_FILES.certificate);
  return fs.existsSync(caFile) ? fs.readFileSync(caFile, 'utf8') : undefined;
}

function gatewayUrl(context: CommandContext, options: ParticipantOptions): string {
  const url = options.url ?? context.gatewayUrl();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GatewayError('invalid_argument', `${options.url === undefined ? 'GATEWAY_URL' : '--url'} must be an http(s) URL, got "${url.slice(0, 100)}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new GatewayError('invalid_argument', `${options.url === undefined ? 'GATEWAY_URL' : '--url'} must be an http(s) URL, got "${url.slice(0, 100)}"`);
  }
  return url;
}

/** A client signing as `options.as`. */
export function clientFor(context: CommandContext, options: ParticipantOptions, credentials = credentialsFor(context, options)): GatewayClient {
  return new GatewayClient({
    baseUrl: gatewayUrl(context, options),
    credentials,
    caCertificatePem: trustAnchor(context, options),
    tlsClientCertificate: true,
  });
}

function list(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter(Boolean);
}

/** Every page of a paged list (`?cursor=` in, `next_cursor` out). */
export async function allPages<T>(client: GatewayClient, path: string, member: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page = (await client.send('GET', `${path}?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json<Record<string, unknown>>();
    items.push(...(page[member] as T[]));
    cursor = page['next_cursor'] as string | null;
  } while (cursor);
  return items;
}

const SHOW = ['jws', 'payload', 'both'] as const;
type Show = (typeof SHOW)[number];

/** One entry of GET /v1/alerts. */
interface FeedEvent {
  readonly event_id: string;
  readonly type: string;
  readonly alert: string;
  readonly cursor: string;
}

interface Subscription {
  readonly subscription_id: string;
  readonly consent_id: string;
  readonly subject: { readonly uscc: string };
  readonly rules: readonly string[];
  readonly state: string;
  readonly end_reason: string | null;
  readonly created_at: string;
}

function describeSubscription(subscription: Subscription): string {
  return `${subscription.subscription_id}  ${subscription.state.padEnd(6)} ${subscription.subject.uscc}  consent ${subscription.consent_id}  `
    + `rules ${subscription.rules.join(',')}${subscription.end_reason ? `  (${subscription.end_reason})` : ''}`;
}

function describeAlert(claims: Readonly<Record<string, unknown>>): string {
  const subject = (claims['subject'] as { uscc?: string } | undefined)?.uscc ?? '';
  if (claims['type'] !== 'alert') return `${String(claims['raised_at'])}  ${String(claims['type'])}  ${subject}  ${String(claims['reason'] ?? '')}`;
  return `${String(claims['raised_at'])}  alert  ${subject}  ${String(claims['rule'])} (${String(claims['severity'])}): `
    + `${JSON.stringify(claims['old_answer'])} -> ${JSON.stringify(claims['new_answer'])}, data as of ${String(claims['data_as_of'])}`;
}

export function registerClient(client: Command, context: CommandContext): void {
  registerClientReport(client, context);
  actingAs(client.command('ingest <dataset> <file>'), 'source')
    .description('push a batch as a source participant and verify the signed receipt')
    .option('--format <format>', 'csv, ndjson or json (default: from the file extension)')
    .option('--as-of <date>', 'the date the records describe (YYYY-MM-DD)')
    .option('--batch-id <id>', 'a batch id of your own')
    .option('--idempotency-key <key>', 'makes a retry safe: the same key and body return the first receipt')
    .option('--objection <id>', 'the objection this batch corrects (docs/objections.md)')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (dataset: string, file: string, options: ParticipantOptions & {
      format?: string; asOf?: string; batchId?: string; idempotencyKey?: string; objection?: string;
    }) => {
      const format = formatOf(file, options.format);
      const body = fs.readFileSync(file);
      const result = await clientFor(context, options).ingest(dataset, body, {
        format, asOf: options.asOf, batchId: options.batchId, idempotencyKey: options.idempotencyKey, objectionId: options.objection,
      });
      const claims = result.verified.claims;
      report(options, {
        status: result.status, replayed: result.replayed, receipt: result.receipt, signing_key: result.verified.kid, claims,
        ...(result.objection ? { objection: result.objection } : {}),
      }, () => [
        `${String(claims['outcome'])}: batch ${String(claims['batch_id'])}, ${String(claims['row_count'])} rows of ${String(claims['dataset'])} as of ${String(claims['as_of'])}${result.replayed ? ' (replayed answer)' : ''}`,
        ...(result.objection ? [`objection ${String(result.objection['objection_id'])} is now ${String(result.objection['state'])}`] : []),
        `receipt verified with gateway key ${result.verified.kid}:`,
        result.receipt,
      ].join('\n'));
    }));
  actingAs(client.command('verify'), 'bank')
    .description('ask questions about a subject under a consent, as a bank; prints the signed answer (compact JWS), verified')
    .requiredOption('--subject <uscc>', 'the enterprise\'s USCC')
    .requiredOption('--consent <id>', 'the consent the enterprise gave this bank')
    .requiredOption('--questions <ids>', 'comma-separated question ids')
    .option('--loan-reference <reference>', 'the application or loan number (recorded in the audit log)', 'unspecified')
    .option('--officer <name>', 'who at the bank asks (recorded in the audit log)', 'cli')
    .addOption(new Option('--show <what>', 'what to print: the JWS, its verified payload (JSON), or both').choices(SHOW).default('jws'))
    .option('--json', 'print the verified, decoded payload as JSON (as --show payload)', false)
    .action(guarded(async (options: ParticipantOptions & { subject: string; consent: string; questions: string; loanReference: string; officer: string; show: Show }) => {
      const result = await clientFor(context, options).askQuestions({
        loanReference: options.loanReference,
        officer: options.officer,
        items: [{ uscc: options.subject, consentId: options.consent, questions: list(options.questions) }],
      });
      const payload = JSON.stringify(result.verified.claims, null, 2);
      const shown = { jws: result.answer, payload, both: `${result.answer}\n\n${payload}` }[options.show];
      const [item] = result.verified.claims['items'] as { status: string; code?: string }[];
      if (item?.status === 'refused') {
        // The gateway answered, signed, and refused: a script must see the refusal in the exit status.
        process.exitCode = 1;
        const message = `the gateway refused the question: ${item.code ?? 'refused'}`;
        if (options.json) report(options, { error: { code: item.code, message }, answer: result.verified.claims }, () => '');
        else process.stderr.write(`error (${item.code ?? 'refused'}): ${message}\n${shown}\n`);
        return;
      }
      report(options, { ...result.verified.claims }, () => shown);
    }));
  actingAs(client.command('subscribe'), 'bank')
    .description('watch a subject under a post_loan_management consent: the gateway raises signed alerts when its answers change')
    .requiredOption('--subject <uscc>', 'the enterprise\'s USCC')
    .requiredOption('--consent <id>', 'the post_loan_management consent the enterprise gave this bank')
    .option('--rules <ids>', 'comma-separated monitor rules (policies/monitors.json); default: every rule the consent covers')
    .option('--json', 'print the subscription as JSON', false)
    .action(guarded(async (options: ParticipantOptions & { subject: string; consent: string; rules?: string }) => {
      const body = { consent_id: options.consent, subject: { uscc: options.subject }, ...(options.rules === undefined ? {} : { rules: list(options.rules) }) };
      const subscription = (await clientFor(context, options).send('POST', '/v1/subscriptions', {
        body: JSON.stringify(body), headers: { 'content-type': 'application/json' },
      })).json<Subscription>();
      report(options, subscription, () => describeSubscription(subscription));
    }));
  actingAs(client.command('subscriptions'), 'bank')
    .description('the bank\'s subscriptions, active and ended')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: ParticipantOptions) => {
      const subscriptions = await allPages<Subscription>(clientFor(context, options), '/v1/subscriptions', 'subscriptions');
      report(options, subscriptions, () => subscriptions.map(describeSubscription).join('\n') || 'no subscriptions');
    }));
  actingAs(client.command('unsubscribe <id>'), 'bank')
    .description('end a subscription (end_reason ended_by_bank)')
    .option('--json', 'print the ended subscription as JSON', false)
    .action(guarded(async (id: string, options: ParticipantOptions) => {
      const subscription = (await clientFor(context, options).send('DELETE', `/v1/subscriptions/${encodeURIComponent(id)}`)).json<Subscription>();
      report(options, subscription, () => describeSubscription(subscription));
    }));
  actingAs(client.command('alerts'), 'bank')
    .description('pull the bank\'s alerts from the feed, each verified against the gateway\'s JWKS, in commit order')
    .option('--after <cursor>', 'only events after this cursor (the last one you processed)')
    .option('--cursor-file <file>', 'read --after from this file if it exists, and write the new cursor to it after printing')
    .option('--limit <n>', 'at most this many events', '100')
    .option('--json', 'print the events (JWS and verified claims) and the next cursor as JSON', false)
    .action(guarded(async (options: ParticipantOptions & { after?: string; cursorFile?: string; limit: string }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new GatewayError('invalid_argument', '--limit must be an integer from 1 to 1000');
      const saved = options.cursorFile !== undefined && fs.existsSync(options.cursorFile) ? fs.readFileSync(options.cursorFile, 'utf8').trim() : undefined;
      const after = options.after ?? saved;
      const gateway = clientFor(context, options);
      const page = (await gateway.send('GET', `/v1/alerts?limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`))
        .json<{ events: FeedEvent[]; next_cursor: string }>();
      const events: (FeedEvent & { claims: Readonly<Record<string, unknown>> })[] = [];
      for (const event of page.events) {
        const verified = await gateway.verify(event.alert, SIGNED_TYPES.alert);
        if (verified.claims['event_id'] !== event.event_id) throw new GatewayError('internal_error', `the feed's event ${event.event_id} carries the alert of another event`);
        events.push({ ...event, claims: verified.claims });
      }
      report(options, { events, next_cursor: page.next_cursor }, () =>
        [...events.map((event) => describeAlert(event.claims)), `${events.length} event(s); next cursor: ${page.next_cursor}`].join('\n'));
      if (options.cursorFile !== undefined) fs.writeFileSync(options.cursorFile, `${page.next_cursor}\n`);
    }));
  actingAs(client.command('request <method> <path>'))
    .description('send any signed request and print the answer (e.g. GET /v1/ca)')
    .option('--body-file <file>', 'request body')
    .option('--content-type <type>', 'Content-Type of the body', 'application/json')
    .option('--json', 'print status, headers and body as JSON', false)
    .action(guarded(async (method: string, requestPath: string, options: ParticipantOptions & { bodyFile?: string; contentType: string }) => {
      const body = options.bodyFile ? fs.readFileSync(options.bodyFile) : undefined;
      const response = await clientFor(context, options).send(method.toUpperCase(), requestPath, {
        body, headers: body ? { 'content-type': options.contentType } : {},
      });
      const text = response.body.toString('utf8');
      if (options.json) report(options, { status: response.status, request_id: response.requestId, body: text }, () => text);
      // The body exactly as received (a checkpoint note must keep its final newline, and gain no other), so that
      // `> file` saves what the gateway said.
      else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }));
}
