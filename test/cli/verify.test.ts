// Pins `gateway client verify` through the real CLI against an in-process gateway on the same data and keys
// directories: it prints the signed answer as a compact JWS (which verifies with jose against the gateway's JWKS),
// or with --json the verified payload; a request the gateway refuses, and an item it refuses, exit 1 with the
// problem code.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { GatewayClient } from '../../gateway/client/client.js';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { writeParticipantCertificate, writeParticipantKey } from '../../gateway/identity/index.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { failedWith, runCli } from '../support/cli.js';
import type { Run } from '../support/cli.js';
import { bytes, prepareTestKeys, testConfig } from '../support/runtime.js';

const USCC = '91350100M000100Y43';
const ENTERPRISE_NAME = '泉州测试欠费机械有限公司';
const OWED_AMOUNT = '4321.09';
const BANK = 'bank-verify-cli';
const ENTERPRISE = 'enterprise-verify-cli';
const QUESTIONS = ['medical_arrears_now', 'medical_arrears_24m'];
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

interface Item {
  readonly subject: { readonly uscc: string };
  readonly consent_id: string;
  readonly status: string;
  readonly code?: string;
  readonly questions?: ReadonlyArray<{ readonly id: string; readonly answer: unknown; readonly repeated: boolean }>;
}

function describeRun(run: Run): string {
  return `\`gateway ${run.args.join(' ')}\` exit ${String(run.code)}; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}


describe('gateway client verify (CLI)', function () {
  this.timeout(300_000);
  let root: string;
  let config: GatewayConfig;
  let runtime: Runtime;
  let running: RunningServer;
  let consentId: string;
  let jwks: JSONWebKeySet;
  const verify = (args: readonly string[]) => runCli(root, ['client', 'verify', ...args], { GATEWAY_URL: running.url });
  const asBank = (consent: string, questions: readonly string[] = QUESTIONS, extra: readonly string[] = []) =>
    verify(['--as', BANK, '--subject', USCC, '--consent', consent, '--questions', questions.join(','), ...extra]);

  before(async function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-verify-cli-'));
    config = testConfig(root, { HOST: '127.0.0.1', PORT: '0', GATEWAY_INGEST_WORKERS: '1' });
    await prepareTestKeys(config);
    runtime = (await openRuntime(config));
    running = await startServer(runtime, createLogger('silent'), createMetrics());
    // The participants' keys and certificates where `--as` looks for them: <keys>/participants/<id>.{key,cert}.pem.
    const pair = generateRsaKeyPair();
    const credentials = new Map<string, { participantId: string; privateKeyPem: string; certificatePem: string }>();
    for (const [participantId, role, uscc] of [[BANK, 'bank', undefined], [ENTERPRISE, 'enterprise', USCC]] as const) {
      const record = await runtime.participants.add({ participantId, role, name: `Test ${role}`, uscc, publicKeyPem: pair.publicKeyPem, certificateDays: 30 });
      writeParticipantKey(config.keysDir, participantId, pair.privateKeyPem);
      writeParticipantCertificate(config.keysDir, participantId, record.certificatePem);
      credentials.set(participantId, { participantId, privateKeyPem: pair.privateKeyPem, certificatePem: record.certificatePem });
    }
    await runtime.ingestor.ingest({
      dataset: 'medical_insurance_arrears', format: 'csv', source: 'operator',
      input: bytes(`enterprise_name,uscc,arrears_period,arrears_amount\n${ENTERPRISE_NAME},${USCC},${monthsAgo(3)},${OWED_AMOUNT}\n`),
    });
    const enterprise = new GatewayClient({ baseUrl: running.url, credentials: credentials.get(ENTERPRISE)!, audience: config.gatewayId });
    const granted = await enterprise.grantConsent({ uscc: USCC, bank: BANK, purpose: 'loan_approval', questions: QUESTIONS, days: 30 });
    consentId = String(granted.consent['consent_id']);
    jwks = (await (await fetch(`${running.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  });

  after(async function () {
    await running?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const runs: Record<string, Run> = {};

  // A CLI process takes a while to start, so all but the first run at once (the first must come first: the
  // others see its answers as repeated).
  before(async function () {
    runs['jws'] = await asBank(consentId);
    const pending: Record<string, Promise<Run>> = {
      json: asBank(consentId, [' medical_arrears_now', ''], ['--json', '--loan-reference', 'LN-CLI-7', '--officer', '王芳']),
      notBank: verify(['--as', ENTERPRISE, '--subject', USCC, '--consent', consentId, '--questions', QUESTIONS[0] as string, '--json']),
      badSubject: verify(['--as', BANK, '--subject', 'not-a-uscc', '--consent', consentId, '--questions', QUESTIONS[0] as string, '--json']),
      badSubjectHuman: verify(['--as', BANK, '--subject', 'not-a-uscc', '--consent', consentId, '--questions', QUESTIONS[0] as string]),
      noConsent: asBank('no-such-consent-0123456789', QUESTIONS, ['--json']),
      notCovered: asBank(consentId, ['medical_headcount_band'], ['--json']),
    };
    for (const [name, run] of Object.entries(pending)) runs[name] = await run;
  });

  it('prints the signed answer as a compact JWS that verifies against the gateway\'s JWKS', async function () {
    const run = runs['jws'] as Run;
    expect(run.code, describeRun(run)).to.equal(0);
    const answer = run.stdout.trim();
    expect(answer).to.match(COMPACT_JWS);
    expect(run.stdout).to.equal(`${answer}\n`);
    const { payload, protectedHeader } = await compactVerify(answer, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
    expect(protectedHeader.typ).to.equal('gateway-verification+jwt');
    const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as { aud: string; officer: string; loan_reference: string; items: Item[] };
    expect(claims).to.include({ aud: BANK, officer: 'cli', loan_reference: 'unspecified' });
    expect(claims.items[0]).to.include({ status: 'answered', consent_id: consentId });
    expect(claims.items[0]?.questions?.map((question) => [question.id, question.answer])).to.deep.equal([[QUESTIONS[0], true], [QUESTIONS[1], true]]);
    expect(run.stdout + run.stderr).to.not.include(OWED_AMOUNT);
  });

  it('prints the verified payload with --json, with the loan reference and officer it was given', async function () {
    const run = runs['json'] as Run;
    expect(run.code, describeRun(run)).to.equal(0);
    const claims = JSON.parse(run.stdout) as { iss: string; aud: string; loan_reference: string; officer: string; items: Item[] };
    expect(claims).to.include({ iss: config.gatewayId, aud: BANK, loan_reference: 'LN-CLI-7', officer: '王芳' });
    expect(claims.items).to.have.length(1);
    // " medical_arrears_now," is one question: ids are trimmed and empty ones dropped.
    expect(claims.items[0]?.questions).to.have.length(1);
    expect(claims.items[0]?.questions?.[0]).to.include({ id: 'medical_arrears_now', answer: true, repeated: true });
    const entries = await (await runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, consentId, kind: 'verification.answered', limit: 100 }))
      .map((stored) => JSON.parse(Buffer.from(stored.entry).toString('utf8')) as Record<string, unknown>);
    expect(entries.some((entry) => entry['loan_reference'] === 'LN-CLI-7' && entry['officer'] === '王芳' && entry['actor'] === BANK)).to.equal(true);
  });

  describe('when the gateway refuses the request', function () {
    it('exits 1 with role_not_allowed for a participant that is not a bank', function () {
      failedWith(runs['notBank'] as Run, 'role_not_allowed');
    });

    it('exits 1 with invalid_argument for a subject that is not a USCC, and says so on stderr without --json', function () {
      failedWith(runs['badSubject'] as Run, 'invalid_argument');
      const human = runs['badSubjectHuman'] as Run;
      expect(human.code, describeRun(human)).to.equal(1);
      expect(human.stdout).to.equal('');
      expect(human.stderr).to.match(/^error \(invalid_argument\): /);
    });
  });

  describe('when the gateway refuses the item', function () {
    it('exits 1 with consent_missing for a consent that does not exist', function () {
      failedWith(runs['noConsent'] as Run, 'consent_missing');
    });

    it('exits 1 with question_not_covered for a question the consent does not name', function () {
      failedWith(runs['notCovered'] as Run, 'question_not_covered');
    });
  });
});

/** The month `back` months before this month in Asia/Shanghai, YYYY-MM. */
function monthsAgo(back: number): string {
  const [year, month] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(new Date()).split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - back;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}
