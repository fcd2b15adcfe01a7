// Pins the operator's monitoring tools through the real `gateway` CLI, against an in-process gateway serving the same
// data and keys directories: `participants webhook` (the whsec_ secret printed once, kept on a URL change, replaced
// by --rotate-secret so that later deliveries verify with the new secret only, and its refusals), and
// `alerts list|replay` (a delivered alert, a pending one, a dead-lettered one and its replay until delivered).
// No command may print an endpoint secret except the one run that issued it.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import type { GatewayClient } from '../../gateway/client/client.js';
import { openWebhookSecret } from '../../gateway/identity/webhooks.js';
import { packageRoot } from '../../gateway/paths.js';
import { startTestGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { arrearsCsv, consentAndSubscribe, uscc } from '../monitoring/support.js';

const CLI = path.join(packageRoot, 'dist/gateway/cli/main.js');
const DATASET = 'medical_insurance_arrears';
/** Fast retries and a one-second horizon, so that a failing receiver dead-letters an event within about a second. */
const GATEWAY_ENV = {
  GATEWAY_ALERT_POLL_MS: '50', GATEWAY_ALERT_RETRY_BASE_MS: '50', GATEWAY_ALERT_RETRY_MAX_MS: '200', GATEWAY_ALERT_RETRY_HORIZON_SECONDS: '1',
  // The receivers below listen on loopback, which a webhook may reach only when the operator allows it.
  GATEWAY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
};
/** `whsec_` and 32 random bytes in standard base64. */
const SECRET_FORM = /^whsec_[A-Za-z0-9+/]{43}=$/;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Run {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface CliError {
  readonly error: { readonly code: string; readonly message: string };
}

interface WebhookShown {
  readonly participant: string;
  readonly url: string;
  readonly updated_at: string;
  readonly secret?: string;
}

interface EventRow {
  readonly event_id: string;
  readonly bank: string;
  readonly type: string;
  readonly state: 'pending' | 'delivered' | 'dead';
  readonly attempts: number;
  readonly created_at: string;
  readonly next_attempt_at: string | null;
  readonly last_error: string | null;
  readonly delivered_at: string | null;
}

function runCli(dir: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = {
      PATH: process.env['PATH'] ?? '', GATEWAY_DATA_DIR: path.join(dir, 'data'), GATEWAY_KEYS_DIR: path.join(dir, 'keys'),
      LOG_LEVEL: 'silent', GATEWAY_INGEST_WORKERS: '1', GATEWAY_WEBHOOK_ALLOWED_NETWORKS: GATEWAY_ENV.GATEWAY_WEBHOOK_ALLOWED_NETWORKS,
    };
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ args, code, stdout, stderr }));
  });
}

function json<T>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout of \`gateway ${run.args.join(' ')}\` is not JSON (exit ${String(run.code)}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

function succeeded<T>(run: Run): T {
  expect(run.code, `\`gateway ${run.args.join(' ')}\` exit code; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).to.equal(0);
  return json<T>(run);
}

function failedWith(run: Run, code: string): CliError {
  expect(run.code, `\`gateway ${run.args.join(' ')}\` exit code; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).to.equal(1);
  const body = json<CliError>(run);
  expect(body.error.code, body.error.message).to.equal(code);
  expect(body.error.message).to.be.a('string').and.not.be.empty;
  return body;
}

interface Hit {
  readonly id: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly status: number;
}

/** A bank's endpoint on 127.0.0.1 that records every request as received and answers `status`. */
interface RecordingReceiver {
  readonly url: string;
  readonly hits: Hit[];
  status: number;
  /** Resolves once `predicate` holds for the hits so far. */
  waitUntil(predicate: (hits: readonly Hit[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function startRecordingReceiver(status: number): Promise<RecordingReceiver> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      receiver.hits.push({ id: headers['webhook-id'] ?? '', headers, body: Buffer.concat(chunks).toString('utf8'), status: receiver.status });
      res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: RecordingReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits: [],
    status,
    async waitUntil(predicate, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(receiver.hits)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; hits: ${JSON.stringify(receiver.hits.map((hit) => [hit.id, hit.status]))}`);
        await settle(25);
      }
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return receiver;
}

/** Whether `secret` verifies the Standard Webhooks signature of `hit` (the library also checks the timestamp). */
function verifies(secret: string, hit: Hit): boolean {
  try {
    new Webhook(secret).verify(hit.body, hit.headers, { jsonParse: false });
    return true;
  } catch {
    return false;
  }
}

describe('gateway participants webhook and gateway alerts (CLI)', function () {
  this.timeout(300_000);
  let gateway: TestGateway;
  let source: GatewayClient;
  let batches = 0;
  const runs: Run[] = [];
  const cli = async (args: readonly string[]): Promise<Run> => {
    const run = await runCli(gateway.dir, args);
    runs.push(run);
    return run;
  };
  const ingest = (rows: Parameters<typeof arrearsCsv>[0]) =>
    source.ingest(DATASET, arrearsCsv(rows), { format: 'csv', batchId: `cli-alerts-${++batches}` });
  /** An enterprise for `subject` consents for `bankId` (post-loan, risk_monitoring) and the bank subscribes. */
  const watch = async (bank: GatewayClient, bankId: string, subject: string) => {
    const enterprise = await gateway.enrol('enterprise', { uscc: subject });
    await consentAndSubscribe(gateway.client(enterprise), bank, subject, bankId);
  };
  const listed = async (args: readonly string[]) => succeeded<EventRow[]>(await cli(['alerts', 'list', ...args, '--json']));
  const waitForState = async (state: EventRow['state'], bankId: string) => {
    for (let i = 0; i < 200; i++) {
      if ((await gateway.runtime.monitoring.listEvents({ state, bankId }, 10)).length > 0) return;
      await settle(25);
    }
    throw new Error(`no ${state} event of ${bankId}`);
  };

  // The alerts scenario: one bank whose receiver answers 200, one whose receiver answers 500 (dead-lettered after the
  // one-second horizon) and one without a webhook (its event stays pending). Their webhooks are registered in-process
  // (the CLI's registration is what the first part pins) and the alerts are raised before the webhook tests run, so
  // the dead-lettering happens meanwhile.
  const liveId = 'bank-alerts-live';
  const deadId = 'bank-alerts-dead';
  const pullId = 'bank-alerts-pull';
  let live: RecordingReceiver;
  let failing: RecordingReceiver;
  let deadSecret: string;

  // The webhook scenario: a bank whose webhook the CLI registers and rotates, three borrowers it watches.
  const bankId = 'bank-webhook';
  const subjects = [uscc(9101), uscc(9102), uscc(9103)];
  let receiver: RecordingReceiver;

  before(async function () {
    gateway = await startTestGateway(GATEWAY_ENV);
    source = gateway.client(await gateway.enrol('source', { datasets: [DATASET] }));
    [live, failing, receiver] = await Promise.all([startRecordingReceiver(200), startRecordingReceiver(500), startRecordingReceiver(204)]);

    const liveBank = gateway.client(await gateway.enrol('bank', { id: liveId }));
    const deadBank = gateway.client(await gateway.enrol('bank', { id: deadId }));
    const pullBank = gateway.client(await gateway.enrol('bank', { id: pullId }));
    await gateway.runtime.configureWebhook(liveId, { url: live.url });
    deadSecret = (await gateway.runtime.configureWebhook(deadId, { url: failing.url })).secret as string;
    await watch(liveBank, liveId, uscc(9201));
    await watch(deadBank, deadId, uscc(9202));
    await watch(pullBank, pullId, uscc(9203));
    await ingest([{ uscc: uscc(9201), amount: '21.00' }, { uscc: uscc(9202), amount: '22.00' }, { uscc: uscc(9203), amount: '23.00' }]);

    const bank = gateway.client(await gateway.enrol('bank', { id: bankId }));
    await gateway.enrol('enterprise', { id: 'enterprise-webhook', uscc: uscc(9199) });
    await gateway.enrol('bank', { id: 'bank-nowebhook' });
    for (const subject of subjects) await watch(bank, bankId, subject);
  });

  after(async function () {
    await Promise.all([live?.close(), failing?.close(), receiver?.close()]);
    await gateway?.stop();
  });

  describe('participants webhook', function () {
    let first: WebhookShown;
    let rotated: WebhookShown;

    it('registers the URL and prints a whsec_ secret (32 random bytes) with --json', async function () {
      first = succeeded(await cli(['participants', 'webhook', bankId, '--url', receiver.url, '--json']));
      expect(first.participant).to.equal(bankId);
      expect(first.url).to.equal(receiver.url);
      expect(Number.isNaN(Date.parse(first.updated_at))).to.equal(false);
      expect(first.secret).to.match(SECRET_FORM);
      expect(Buffer.from((first.secret as string).slice('whsec_'.length), 'base64')).to.have.length(32);
      const stored = await gateway.runtime.store.getWebhook(bankId);
      expect(stored?.url).to.equal(receiver.url);
      // Sealed at rest: the database holds no secret in the clear, and the data key opens it.
      expect(stored?.secret).to.match(/^sealed:/).and.not.include('whsec_');
      expect(await openWebhookSecret(gateway.runtime.keyring, stored!)).to.equal(first.secret);
    });

    it('delivers an alert whose Standard Webhooks signature verifies with that secret', async function () {
      await ingest([{ uscc: subjects[0] as string, amount: '10.00' }]);
      await receiver.waitUntil((hits) => hits.length >= 1, 'the first delivery');
      const hit = receiver.hits[0] as Hit;
      expect(hit.headers['content-type']).to.equal('application/jose');
      expect(verifies(first.secret as string, hit)).to.equal(true);
    });

    it('keeps the secret when run again without --rotate-secret, and prints none', async function () {
      const run = await cli(['participants', 'webhook', bankId, '--url', receiver.url, '--json']);
      const kept = succeeded<WebhookShown>(run);
      expect(kept).to.not.have.property('secret');
      expect(run.stdout).to.not.include('whsec_');
      expect(kept).to.include({ participant: bankId, url: receiver.url });
      expect(await openWebhookSecret(gateway.runtime.keyring, (await gateway.runtime.store.getWebhook(bankId))!)).to.equal(first.secret);
      // A later delivery still verifies with the first secret.
      const before = receiver.hits.length;
      await ingest([{ uscc: subjects[1] as string, amount: '11.00' }]);
      await receiver.waitUntil((hits) => hits.length > before, 'a delivery after the unchanged webhook');
      expect(verifies(first.secret as string, receiver.hits.at(-1) as Hit)).to.equal(true);
    });

    it('--rotate-secret (without --url) prints a new secret, keeps the URL, and later deliveries verify with the new secret only', async function () {
      rotated = succeeded(await cli(['participants', 'webhook', bankId, '--rotate-secret', '--json']));
      expect(rotated).to.include({ participant: bankId, url: receiver.url });
      expect(rotated.secret).to.match(SECRET_FORM);
      expect(rotated.secret).to.not.equal(first.secret);
      const before = receiver.hits.length;
      await ingest([{ uscc: subjects[2] as string, amount: '12.00' }]);
      await receiver.waitUntil((hits) => hits.length > before, 'a delivery after the rotation');
      const hit = receiver.hits.at(-1) as Hit;
      expect(verifies(rotated.secret as string, hit), 'new secret').to.equal(true);
      expect(verifies(first.secret as string, hit), 'old secret').to.equal(false);
    });

    describe('refusals (exit code 1, JSON error, webhook unchanged)', function () {
      const cases: ReadonlyArray<{ why: string; args: (url: string) => string[]; code: string }> = [
        { why: 'an unknown participant', code: 'not_found', args: (url) => ['bank-nobody', '--url', url] },
        { why: 'a participant that is not a bank (an enterprise)', code: 'invalid_argument', args: (url) => ['enterprise-webhook', '--url', url] },
        { why: 'a malformed URL', code: 'invalid_argument', args: () => [bankId, '--url', 'not a url'] },
        { why: 'plain http to an address the operator does not allow', code: 'invalid_argument', args: () => [bankId, '--url', 'http://192.0.2.7/hook'] },
        { why: 'https to loopback outside the allowed networks', code: 'invalid_argument', args: () => [bankId, '--url', 'https://127.0.0.2/hook'] },
        { why: 'https to the link-local metadata address', code: 'invalid_argument', args: () => [bankId, '--url', 'https://169.254.169.254/latest/meta-data'] },
        { why: '--rotate-secret for a bank without a webhook yet', code: 'invalid_argument', args: () => ['bank-nowebhook', '--rotate-secret'] },
      ];
      const refused = new Map<string, Run>();

      before(async function () {
        const results = await Promise.all(cases.map((refusal) => cli(['participants', 'webhook', ...refusal.args(receiver.url), '--json'])));
        cases.forEach((refusal, index) => refused.set(refusal.why, results[index] as Run));
      });

      for (const refusal of cases) {
        it(`refuses ${refusal.why} with ${refusal.code}`, function () {
          const run = refused.get(refusal.why) as Run;
          failedWith(run, refusal.code);
          expect(run.stdout + run.stderr).to.not.include('whsec_');
        });
      }

      it('leaves the registered webhook as it was and registers none for the refused participants', async function () {
        const stored = await gateway.runtime.store.getWebhook(bankId);
        expect(stored).to.include({ url: receiver.url });
        expect(await openWebhookSecret(gateway.runtime.keyring, stored!)).to.equal(rotated.secret);
        for (const id of ['bank-nobody', 'enterprise-webhook', 'bank-nowebhook']) expect(await gateway.runtime.store.getWebhook(id), id).to.equal(undefined);
      });

      it('audits each accepted configuration as webhook.configured and no refused one; no audit entry holds a secret', async function () {
        const entries = await gateway.runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, limit: 100_000 });
        const configured = entries.filter((entry) => entry.kind === 'webhook.configured').map((entry) => Buffer.from(entry.entry).toString('utf8'));
        expect(configured.filter((text) => text.includes(`"${bankId}"`))).to.have.length(3);
        for (const id of ['bank-nobody', 'enterprise-webhook', 'bank-nowebhook']) expect(configured.filter((text) => text.includes(`"${id}"`)), id).to.deep.equal([]);
        for (const entry of entries) expect(Buffer.from(entry.entry).toString('utf8')).to.not.include('whsec_');
      });
    });

  });

  describe('alerts list and replay', function () {
    let byDefault: EventRow[];
    let dead: EventRow[];
    let delivered: EventRow[];
    let pending: EventRow[];
    let deadEvent: EventRow;

    before(async function () {
      await waitForState('delivered', liveId);
      await waitForState('dead', deadId);
      [byDefault, dead, delivered, pending] = await Promise.all([
        listed([]), listed(['--state', 'dead']), listed(['--state', 'delivered', '--bank', liveId]), listed(['--state', 'pending', '--bank', pullId]),
      ]);
    });

    it('--state delivered --bank <id> shows the alert produced end to end, delivered on the first attempt', function () {
      expect(delivered).to.have.length(1);
      const row = delivered[0] as EventRow;
      expect(row).to.include({ bank: liveId, type: 'alert', state: 'delivered', attempts: 1, last_error: null, next_attempt_at: null });
      expect(row.event_id).to.equal((live.hits[0] as Hit).id);
      expect(Number.isNaN(Date.parse(row.delivered_at as string))).to.equal(false);
    });

    it('--state pending --bank <id> shows the alert of a bank without a webhook, never attempted', function () {
      expect(pending).to.have.length(1);
      expect(pending[0]).to.include({ bank: pullId, type: 'alert', state: 'pending', attempts: 0, last_error: null, delivered_at: null });
      expect(Number.isNaN(Date.parse(pending[0]?.next_attempt_at as string))).to.equal(false);
    });

    it('--state dead shows only the event whose receiver answered 500 past the horizon, every attempt the same signed bytes', function () {
      expect(dead.map((row) => row.bank)).to.deep.equal([deadId]);
      deadEvent = dead[0] as EventRow;
      expect(deadEvent).to.include({ type: 'alert', state: 'dead', next_attempt_at: null, delivered_at: null });
      expect(deadEvent.attempts).to.be.at.least(2);
      expect(deadEvent.last_error).to.match(/^HTTP 500/);
      expect(failing.hits.length).to.be.at.least(deadEvent.attempts);
      expect(new Set(failing.hits.map((hit) => hit.id))).to.deep.equal(new Set([deadEvent.event_id]));
      expect(new Set(failing.hits.map((hit) => hit.body)).size).to.equal(1);
      expect(failing.hits.every((hit) => verifies(deadSecret, hit))).to.equal(true);
    });

    it('lists the dead-lettered events when no --state is given', function () {
      expect(byDefault).to.deep.equal(dead);
    });

    it('refuses an unknown --state (invalid_argument), a replay of an unknown id (not_found) and of a not dead-lettered one (invalid_argument), with exit code 1', async function () {
      const unknownId = '00000000-0000-4000-8000-000000000000';
      const [badState, unknown, notDead] = await Promise.all([
        cli(['alerts', 'list', '--state', 'lost', '--json']),
        cli(['alerts', 'replay', unknownId, '--json']),
        cli(['alerts', 'replay', (live.hits[0] as Hit).id, '--json']),
      ]);
      failedWith(badState, 'invalid_argument');
      expect(failedWith(unknown, 'not_found').error.message).to.include(unknownId);
      failedWith(notDead, 'invalid_argument');
      expect((await gateway.runtime.monitoring.listEvents({ state: 'dead' }, 10)).map((row) => row.event_id)).to.deep.equal([deadEvent.event_id]);
      expect(await gateway.runtime.monitoring.listEvents({ state: 'delivered', bankId: liveId }, 10)).to.have.length(1);
    });

    it('replay <event-id> puts the dead event back; once the receiver answers 200 it is delivered, the same bytes', async function () {
      const bodyBefore = (failing.hits[0] as Hit).body;
      const hitsBefore = failing.hits.length;
      failing.status = 200;
      expect(succeeded(await cli(['alerts', 'replay', deadEvent.event_id, '--json']))).to.deep.equal({ replayed: [deadEvent.event_id] });
      await failing.waitUntil((hits) => hits.slice(hitsBefore).some((hit) => hit.status === 200), 'the replayed delivery');
      const hit = failing.hits.slice(hitsBefore).find((candidate) => candidate.status === 200) as Hit;
      expect(hit.id).to.equal(deadEvent.event_id);
      expect(hit.body).to.equal(bodyBefore);
      expect(verifies(deadSecret, hit)).to.equal(true);
      await waitForState('delivered', deadId);
      const after = await listed(['--state', 'delivered', '--bank', deadId]);
      // The replay started a new horizon with the attempts counted from zero.
      expect(after).to.have.length(1);
      expect(after[0]).to.include({ event_id: deadEvent.event_id, state: 'delivered', attempts: 1, last_error: null });
      expect(await gateway.runtime.monitoring.listEvents({ state: 'dead' }, 10)).to.deep.equal([]);
      const replays = await (await gateway.runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, limit: 100_000 }))
        .filter((entry) => entry.kind === 'alert.replayed').map((entry) => Buffer.from(entry.entry).toString('utf8'));
      expect(replays).to.have.length(1);
      expect(replays[0]).to.include(deadEvent.event_id);
    });
  });

  describe('output', function () {
    it('shows an endpoint secret only in the run that issued it, exactly once, and never a record value', async function () {
      const issued = runs.filter((run) => /whsec_/.test(run.stdout + run.stderr));
      // The first registration and the rotation.
      expect(issued.map((run) => run.args.slice(0, 3))).to.deep.equal([['participants', 'webhook', bankId], ['participants', 'webhook', bankId]]);
      const secrets = issued.map((run) => run.stdout.match(/whsec_[A-Za-z0-9+/=]+/g) ?? []);
      for (const found of secrets) expect(found).to.have.length(1);
      const all = [...secrets.flat(), deadSecret, await openWebhookSecret(gateway.runtime.keyring, (await gateway.runtime.store.getWebhook(liveId))!)];
      expect(new Set(all).size).to.equal(4);
      for (const run of runs) {
        const label = `gateway ${run.args.join(' ')}`;
        expect(run.stderr, label).to.not.include('whsec_');
        expect(all.filter((secret) => run.stdout.includes(secret)).length, label).to.equal(issued.includes(run) ? 1 : 0);
        for (const amount of ['21.00', '22.00', '23.00']) expect(run.stdout, label).to.not.include(amount);
      }
    });
  });
});
