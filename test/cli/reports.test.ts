// Pins `gateway client report`, `gateway report verify` and `gateway objections list` through the real CLI against an
// in-process gateway on the same data and keys directories: the report is fetched, saved as JSON and PDF, and checked
// offline both with the keys directory and with only the published JWKS and note key; a tampered file exits 1 naming
// the failed check, a file that is not a report exits 2; the operator lists open objections.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { GatewayClient } from '../../gateway/client/client.js';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { writeParticipantCertificate, writeParticipantKey } from '../../gateway/identity/index.js';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { runCli } from '../support/cli.js';
import type { Run } from '../support/cli.js';
import { pdfText } from '../support/pdf.js';
import { bytes, prepareTestKeys, testConfig } from '../support/runtime.js';

const USCC = '91350100M000100Y43';
const NAME = '泉州测试欠费机械有限公司';
const BANK = 'bank-report-cli';
const ENTERPRISE = 'enterprise-report-cli';
const TEMPLATE = 'customer_screening';

function describeRun(run: Run): string {
  return `\`gateway ${run.args.join(' ')}\` exit ${String(run.code)}; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

function monthsAgo(back: number): string {
  const [year, month] = todayInShanghai().split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - back;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

describe('gateway client report, report verify and objections list (CLI)', function () {
  this.timeout(60_000);
  let root: string;
  let config: GatewayConfig;
  let runtime: Runtime;
  let running: RunningServer;
  let consentId: string;
  let enterprise: GatewayClient;
  const out = () => path.join(root, 'report.json');

  before(async function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-report-cli-'));
    config = testConfig(root, { HOST: '127.0.0.1', PORT: '0', GATEWAY_INGEST_WORKERS: '1', GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000' });
    await prepareTestKeys(config);
    runtime = (await openRuntime(config));
    running = await startServer(runtime, createLogger('silent'), createMetrics());
    const pair = generateRsaKeyPair();
    const credentials = new Map<string, { participantId: string; privateKeyPem: string; certificatePem: string }>();
    for (const [participantId, role, uscc, name] of [[BANK, 'bank', undefined, 'Test bank'], [ENTERPRISE, 'enterprise', USCC, NAME]] as const) {
      const record = await runtime.participants.add({ participantId, role, name, uscc, publicKeyPem: pair.publicKeyPem, certificateDays: 30 });
      writeParticipantKey(config.keysDir, participantId, pair.privateKeyPem);
      writeParticipantCertificate(config.keysDir, participantId, record.certificatePem);
      credentials.set(participantId, { participantId, privateKeyPem: pair.privateKeyPem, certificatePem: record.certificatePem });
    }
    await runtime.ingestor.ingest({
      dataset: 'medical_insurance_arrears', format: 'csv', source: 'operator',
      input: bytes(`enterprise_name,uscc,arrears_period,arrears_amount\n${NAME},${USCC},${monthsAgo(3)},12.00\n`),
    });
    enterprise = new GatewayClient({ baseUrl: running.url, credentials: credentials.get(ENTERPRISE)!, audience: config.gatewayId });
    const granted = await enterprise.grantConsent({
      uscc: USCC, bank: BANK, purpose: 'customer_screening', questions: runtime.templates.get(TEMPLATE).questions.map((question) => question.id), days: 30,
    });
    consentId = String(granted.consent['consent_id']);
  });

  after(async function () {
    await running?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('fetches a report, verifies it, and saves it as JSON and PDF', async function () {
    const pdf = path.join(root, 'report.pdf');
    const run = await runCli(root, [
      'client', 'report', '--as', BANK, '--template', TEMPLATE, '--subject', USCC, '--consent', consentId, '--out', out(), '--pdf', pdf,
      '--loan-reference', 'LN-CLI-9',
    ], { GATEWAY_URL: running.url });
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout).to.match(/^report \S+ verified with gateway key \S+: 8 answers\n/);
    const saved = JSON.parse(fs.readFileSync(out(), 'utf8')) as { report: string; audit: { index: number } };
    expect(saved.report.split('.')).to.have.length(3);
    const text = pdfText(fs.readFileSync(pdf), root);
    expect(text).to.include('企业信用报告（客户筛选）').and.include(NAME).and.include('LN-CLI-9');
  });

  it('verifies the saved report offline with the keys directory, and with only the published JWKS and note key', async function () {
    const run = await runCli(root, ['report', 'verify', out()]);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout).to.include(': VALID').and.include(`${USCC}`);
    const jwksFile = path.join(root, 'jwks.json');
    fs.writeFileSync(jwksFile, await (await fetch(`${running.url}/.well-known/jwks.json`)).text());
    const noteKey = (await (await fetch(`${running.url}/v1/audit/note-key`)).text()).trimEnd();
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-auditor-'));
    try {
      const offline = await runCli(elsewhere, ['report', 'verify', out(), '--jwks', jwksFile, '--verifier-key', noteKey, '--json']);
      expect(offline.code, describeRun(offline)).to.equal(0);
      const result = JSON.parse(offline.stdout) as { valid: boolean; checks: { check: string; ok: boolean }[] };
      expect(result.valid).to.equal(true);
      expect(result.checks.map((check) => check.check)).to.deep.equal(['signature', 'template', 'audit_entry', 'checkpoint', 'inclusion']);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('exits 1 naming the failed check for a tampered report, and 2 for a file that is not a report', async function () {
    const saved = JSON.parse(fs.readFileSync(out(), 'utf8')) as { audit: { entry: string } };
    const tampered = path.join(root, 'tampered.json');
    fs.writeFileSync(tampered, JSON.stringify({ ...saved, audit: { ...saved.audit, entry: saved.audit.entry.replace('"answer":true', '"answer":false') } }));
    const run = await runCli(root, ['report', 'verify', tampered]);
    expect(run.code, describeRun(run)).to.equal(1);
    expect(run.stdout).to.include('INVALID').and.match(/FAIL audit_entry/);
    const notReport = path.join(root, 'not-a-report.json');
    fs.writeFileSync(notReport, '{"hello": "world"}');
    const malformed = await runCli(root, ['report', 'verify', notReport]);
    expect(malformed.code, describeRun(malformed)).to.equal(2);
    expect(malformed.stderr).to.include('invalid_argument');
  });

  it('lists open objections for the operator', async function () {
    const raised = await enterprise.raiseObjection({ target: { dataset: 'medical_insurance_arrears' }, reason: '欠费已结清' });
    const run = await runCli(root, ['objections', 'list', '--json']);
    expect(run.code, describeRun(run)).to.equal(0);
    const rows = JSON.parse(run.stdout) as { objection_id: string; state: string; overdue: boolean }[];
    expect(rows.map((row) => [row.objection_id, row.state, row.overdue])).to.deep.equal([[raised['objection_id'], 'open', false]]);
  });
});
