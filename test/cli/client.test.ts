// Pins the bank's and integrator's side of the CLI against an in-process gateway: --url instead of GATEWAY_URL;
// --key and --cert instead of the keys directory (run from outside any gateway home); --as required of everyone who
// acts (grant too, no default participant); `client verify --show both`; and subscriptions and the alert feed
// (`client subscribe | subscriptions | unsubscribe | alerts`), each alert verified, the cursor kept in a file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { arrearsCsv } from '../monitoring/support.js';
import { CLI, failedWith, json, runCli, succeeded } from '../support/cli.js';
import type { Run } from '../support/cli.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const USCC = '91350100M000100Y43';
const SOURCE = 'source-client-cli';
const ENTERPRISE = 'enterprise-client-cli';
const BANK = 'bank-client-cli';
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

interface Subscription {
  readonly subscription_id: string;
  readonly consent_id: string;
  readonly subject: { readonly uscc: string };
  readonly rules: readonly string[];
  readonly state: string;
  readonly end_reason: string | null;
}

interface AlertsOutput {
  readonly events: ReadonlyArray<{ event_id: string; type: string; alert: string; cursor: string; claims: Record<string, unknown> }>;
  readonly next_cursor: string;
}

/** The CLI with nothing but PATH: no GATEWAY_URL, no data or keys directory, run from `cwd`. */
function bare(cwd: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ args, code, stdout, stderr });
    });
  });
}

describe('gateway client (CLI): flags, subscriptions and alerts', function () {
  this.timeout(300_000);
  let root: string;
  let outside: string;
  let running: RunningServer;
  let url: string;
  let consentId: string;
  let jwks: JSONWebKeySet;
  /** Every command gets --url; none gets GATEWAY_URL. */
  const gateway = (args: readonly string[]) => runCli(root, [...args, '--url', url]);

  before(async function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-client-cli-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-client-outside-'));
    const config = testConfig(root, { HOST: '127.0.0.1', PORT: '0', GATEWAY_INGEST_WORKERS: '1' });
    await prepareTestKeys(config);
    running = await startServer((await openRuntime(config)), createLogger('silent'), createMetrics());
    url = running.url;
    (await Promise.all([
      runCli(root, ['participants', 'add', '--role', 'source', '--name', 'Bureau', '--id', SOURCE, '--datasets', 'medical_insurance_arrears', '--generate']),
      runCli(root, ['participants', 'add', '--role', 'enterprise', '--name', '济南明德机械有限公司', '--id', ENTERPRISE, '--uscc', USCC, '--generate']),
      runCli(root, ['participants', 'add', '--role', 'bank', '--name', '测试银行', '--id', BANK, '--generate']),
    ])).forEach(succeeded);
    consentId = json<{ id: string }>(succeeded(await gateway([
      'consent', 'grant', '--as', ENTERPRISE, '--bank', BANK, '--purpose', 'post_loan_management', '--questions', 'risk_monitoring', '--days', '30', '--json',
    ]))).id;
    jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    // The bank's own key and certificate, away from any gateway home.
    for (const suffix of ['key', 'cert']) fs.copyFileSync(path.join(config.keysDir, 'participants', `${BANK}.${suffix}.pem`), path.join(outside, `bank.${suffix}.pem`));
    fs.writeFileSync(path.join(root, 'arrears.csv'), arrearsCsv([{ uscc: USCC, amount: '880.00' }]));
  });

  after(async function () {
    await running?.stop();
    for (const dir of [root, outside]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('who acts and where', function () {
    let ownFiles: Run;
    let keyAlone: Run;
    let revokeWithoutAs: Run;
    let accessesWithoutAs: Run;

    before(async function () {
      [ownFiles, keyAlone, revokeWithoutAs, accessesWithoutAs] = await Promise.all([
        bare(outside, ['client', 'subscriptions', '--as', BANK, '--key', 'bank.key.pem', '--cert', 'bank.cert.pem', '--url', url, '--json']),
        bare(outside, ['client', 'subscriptions', '--as', BANK, '--key', 'bank.key.pem', '--url', url, '--json']),
        gateway(['consent', 'revoke', consentId]),
        gateway(['consent', 'accesses', consentId]),
      ]);
    });

    it('signs with --key and --cert, without a keys directory, from outside any gateway home', function () {
      expect(json<Subscription[]>(succeeded(ownFiles))).to.deep.equal([]);
      expect(fs.readdirSync(outside).sort()).to.deep.equal(['bank.cert.pem', 'bank.key.pem']);
    });

    it('refuses --key without --cert with invalid_argument', function () {
      expect(failedWith(keyAlone, 'invalid_argument').error.message).to.include('--key and --cert together');
    });

    it('acts as nobody by default: consent revoke and accesses require --as', function () {
      for (const run of [revokeWithoutAs, accessesWithoutAs]) {
        expect(run.code).to.equal(1);
        expect(run.stderr).to.include('--as <participant>');
      }
    });
  });

  describe('client verify --show', function () {
    it('both: prints the JWS, a blank line and its verified payload, which is the JWS\'s', async function () {
      const run = succeeded(await gateway(['client', 'verify', '--as', BANK, '--subject', USCC, '--consent', consentId, '--questions', 'medical_arrears_now', '--show', 'both']));
      const [jws, ...rest] = run.stdout.split('\n\n');
      expect(jws).to.match(COMPACT_JWS);
      const { payload } = await compactVerify(jws as string, createLocalJWKSet(jwks));
      expect(JSON.parse(rest.join('\n\n'))).to.deep.equal(JSON.parse(Buffer.from(payload).toString('utf8')));
      expect(JSON.parse(rest.join('\n\n'))).to.include({ aud: BANK });
    });

    it('payload: prints the verified payload alone', async function () {
      const run = succeeded(await gateway(['client', 'verify', '--as', BANK, '--subject', USCC, '--consent', consentId, '--questions', 'medical_arrears_now', '--show', 'payload']));
      expect(JSON.parse(run.stdout)).to.include({ aud: BANK });
    });
  });

  describe('subscriptions and the alert feed', function () {
    let subscription: Subscription;
    const cursorFile = () => path.join(root, 'alerts.cursor');

    before(async function () {
      subscription = json<Subscription>(succeeded(await gateway([
        'client', 'subscribe', '--as', BANK, '--subject', USCC, '--consent', consentId, '--rules', 'medical_arrears_appeared', '--json',
      ])));
    });

    it('client subscribe: an active subscription to the rules given', function () {
      expect(subscription).to.include({ consent_id: consentId, state: 'active', end_reason: null });
      expect(subscription.rules).to.deep.equal(['medical_arrears_appeared']);
    });

    it('client subscriptions: lists it, in a line with its id and state', async function () {
      const run = succeeded(await gateway(['client', 'subscriptions', '--as', BANK]));
      expect(run.stdout).to.include(subscription.subscription_id).and.include('active').and.include(USCC);
    });

    it('client alerts: the alert raised by new arrears, verified, and the cursor kept in --cursor-file', async function () {
      succeeded(await gateway(['client', 'ingest', 'medical_insurance_arrears', path.join(root, 'arrears.csv'), '--as', SOURCE]));
      const first = json<AlertsOutput>(succeeded(await gateway(['client', 'alerts', '--as', BANK, '--cursor-file', cursorFile(), '--json'])));
      expect(first.events).to.have.length(1);
      const [event] = first.events;
      expect(event?.claims).to.include({ type: 'alert', rule: 'medical_arrears_appeared', subscription_id: subscription.subscription_id, aud: BANK });
      const { protectedHeader } = await compactVerify(event?.alert as string, createLocalJWKSet(jwks));
      expect(protectedHeader.typ).to.equal('gateway-alert+jwt');
      expect(fs.readFileSync(cursorFile(), 'utf8')).to.equal(`${first.next_cursor}\n`);
      expect(first.next_cursor).to.equal(event?.cursor);

      const human = succeeded(await gateway(['client', 'alerts', '--as', BANK]));
      expect(human.stdout).to.include('medical_arrears_appeared (high): "unknown" -> true');
      const again = json<AlertsOutput>(succeeded(await gateway(['client', 'alerts', '--as', BANK, '--cursor-file', cursorFile(), '--json'])));
      expect(again.events).to.deep.equal([]);
    });

    it('client unsubscribe: ends it, ended_by_bank', async function () {
      const ended = json<Subscription>(succeeded(await gateway(['client', 'unsubscribe', subscription.subscription_id, '--as', BANK, '--json'])));
      expect(ended).to.include({ subscription_id: subscription.subscription_id, state: 'ended', end_reason: 'ended_by_bank' });
    });
  });
});
