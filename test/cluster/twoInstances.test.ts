// Two `gateway serve` processes on one PostgreSQL database, each on its own port: what one does the other sees, a
// revocation on one is ordered against answers on the other, and SIGKILLing one loses no acknowledged answer.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createAuditLog } from '../../gateway/audit/log.js';
import type { AuditLog } from '../../gateway/audit/log.js';
import { GatewayClient } from '../../gateway/client/client.js';
import type { ParticipantCredentials } from '../../gateway/client/client.js';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { sha256Hex } from '../../gateway/crypto/index.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { openPostgresAuditStore } from '../../gateway/store/index.js';
import type { AuditStore, ParticipantRole } from '../../gateway/store/index.js';
import { CLI, json, runCli } from '../support/cli.js';
import { startPostgres } from '../support/postgres.js';
import { ndjson, prepareTestKeys, testConfig } from '../support/runtime.js';

const USCC = '91350100M000100Y43';
const QUESTION = 'medical_arrears_now';

interface Instance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<void>;
  stderr(): string;
}

/** Fresh keys of its own, as `gateway init` makes them. */
async function succeededInit(config: GatewayConfig): Promise<void> {
  const made = await runCli(config.dataDir, ['init'], { GATEWAY_DATA_DIR: config.dataDir, GATEWAY_KEYS_DIR: config.keysDir });
  expect(made.code, made.stderr).to.equal(0);
}

function spawnInstance(name: string, root: string, config: GatewayConfig, databaseUrl: string): Promise<Instance> {
  const dataDir = path.join(root, name);
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', GATEWAY_DATA_DIR: dataDir, GATEWAY_KEYS_DIR: config.keysDir,
      GATEWAY_DATABASE_URL: databaseUrl, GATEWAY_DEMO_ENTERPRISES: '0', GATEWAY_INGEST_WORKERS: '1', LOG_LEVEL: 'warn',
      // The load below is one bank asking fast: the per-instance limits must not be what the test measures.
      GATEWAY_BANK_QUESTIONS_PER_SECOND: '100000', GATEWAY_CONSENT_QUESTIONS_PER_MINUTE: '1000000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not listen within 120 s: ${stderr}`)), 120_000);
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      const listening = /gateway listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (listening) {
        clearTimeout(timer);
        resolve({ name, child, url: listening[1] as string, exited, stderr: () => stderr });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${String(code)}) before listening: ${stderr}`));
    });
  });
}

interface Asked {
  readonly status: 'answered' | 'refused';
  readonly answer: string;
  /** The verification.signed entry, and the item's own entry. */
  readonly auditIndex: number;
  readonly itemIndex: number;
}

describe('two gateway instances on one PostgreSQL database', function () {
  this.timeout(300_000);
  let root: string;
  let databaseUrl: string;
  let config: GatewayConfig;
  let a: Instance;
  let b: Instance;
  const credentials = new Map<ParticipantRole, ParticipantCredentials>();
  let auditStore: AuditStore;
  let log: AuditLog;

  const client = (instance: Instance, role: ParticipantRole) =>
    new GatewayClient({ baseUrl: instance.url, credentials: credentials.get(role) as ParticipantCredentials, audience: config.gatewayId });

  async function grant(instance: Instance): Promise<string> {
    const granted = await client(instance, 'enterprise').grantConsent({
      uscc: USCC, bank: (credentials.get('bank') as ParticipantCredentials).participantId, purpose: 'loan_approval', questions: [QUESTION], days: 30,
    });
    return String(granted.consent['consent_id']);
  }

  async function ask(instance: Instance, consentId: string): Promise<Asked> {
    const asked = await client(instance, 'bank').askQuestions({
      loanReference: 'LN-2026-0001', officer: 'officer-1', items: [{ uscc: USCC, consentId, questions: [QUESTION] }],
    });
    const [item] = asked.verified.claims['items'] as Array<{ status: 'answered' | 'refused'; audit_index: number }>;
    return { status: item?.status as Asked['status'], answer: asked.answer, auditIndex: asked.auditIndex as number, itemIndex: item?.audit_index as number };
  }

  async function entryAt(index: number): Promise<Record<string, unknown>> {
    const [stored] = await log.entries({ start: index, end: index + 1, limit: 1 });
    return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Record<string, unknown>;
  }

  before(async function () {
    const server = await startPostgres();
    if (!server) this.skip();
    databaseUrl = await server.createDatabase();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-cluster-'));
    config = testConfig(path.join(root, 'setup'), { GATEWAY_DATABASE_URL: databaseUrl });
    await prepareTestKeys(config);
    // The participants, enrolled once on the shared database (the CA's key is in the shared keys directory).
    const runtime = await openRuntime(config);
    try {
      for (const role of ['source', 'enterprise', 'bank', 'auditor'] as const) {
        const pair = generateRsaKeyPair();
        const record = await runtime.participants.add({
          participantId: `${role}-cluster`, role, name: `Cluster ${role}`, uscc: role === 'enterprise' ? USCC : undefined,
          datasets: role === 'source' ? ['medical_insurance_arrears'] : undefined, publicKeyPem: pair.publicKeyPem, certificateDays: 30,
        });
        credentials.set(role, { participantId: record.participantId, privateKeyPem: pair.privateKeyPem, certificatePem: record.certificatePem });
      }
    } finally {
      await runtime.close();
    }
    [a, b] = await Promise.all([spawnInstance('a', root, config, databaseUrl), spawnInstance('b', root, config, databaseUrl)]);
    auditStore = await openPostgresAuditStore({ url: databaseUrl });
    log = createAuditLog(auditStore);
  });

  after(async function () {
    for (const instance of [a, b]) {
      if (instance && instance.child.exitCode === null && instance.child.signalCode === null) {
        instance.child.kill('SIGTERM');
        await instance.exited;
      }
    }
    await auditStore?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('reports the PostgreSQL engine on /readyz of both', async function () {
    for (const instance of [a, b]) expect(await (await fetch(`${instance.url}/readyz`)).json()).to.deep.equal({ status: 'ready', engine: 'postgres' });
  });

  it('answers on B from records ingested on A, under a consent granted on A', async function () {
    await client(a, 'source').ingest('medical_insurance_arrears', ndjson([
      { enterprise_name: '福州某某科技有限公司', uscc: USCC, arrears_period: '2026-10', arrears_amount: '1200.00' },
    ]), { format: 'ndjson' });
    const consentId = await grant(a);
    const asked = await ask(b, consentId);
    expect(asked.status).to.equal('answered');
    const answered = await entryAt(asked.itemIndex);
    expect(answered).to.include({ kind: 'verification.answered', consent_id: consentId });
  });

  it('after a revocation on B, answers nothing more under the consent on either, and the log holds no answer after it', async function () {
    const consentId = await grant(a);
    let revoked = false;
    const answeredAfter: number[] = [];
    // A asks without pause while B revokes; once the revocation is acknowledged, every item must be refused.
    const load = (async () => {
      for (let round = 0; round < 400; round += 1) {
        const wasRevoked = revoked;
        const asked = await ask(a, consentId);
        if (wasRevoked && asked.status === 'answered') answeredAfter.push(asked.itemIndex);
        if (wasRevoked && asked.status === 'refused') return;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client(b, 'enterprise').revokeConsent(consentId);
    revoked = true;
    await load;
    expect(answeredAfter, 'answers acknowledged after the revocation').to.deep.equal([]);
    expect((await ask(b, consentId)).status).to.equal('refused');
    expect((await ask(a, consentId)).status).to.equal('refused');
    const entries = await log.entries({ start: 0, end: await log.size(), consentId, limit: 100_000 });
    const revocation = entries.find((entry) => entry.kind === 'consent.revoked');
    expect(revocation, 'the revocation is in the log').to.not.equal(undefined);
    const answers = entries.filter((entry) => entry.kind === 'verification.answered');
    expect(answers.length, 'answers before the revocation (the race was run)').to.be.greaterThan(0);
    expect(answers.filter((entry) => entry.index > (revocation?.index ?? 0)).map((entry) => entry.index)).to.deep.equal([]);
  });

  it('keeps serving on B when A is SIGKILLed under load, with every acknowledged answer in the one log', async function () {
    const consentId = await grant(b);
    const acknowledged: Asked[] = [];
    let stop = false;
    let killed = false;
    const worker = async (instance: Instance) => {
      while (!stop) {
        try {
          acknowledged.push(await ask(instance, consentId));
        } catch (error) {
          // A's requests in flight when it dies fail: that is what a killed instance does. B's must not.
          if (instance === a && killed) return;
          throw error;
        }
      }
    };
    const workers = [a, a, a, b, b, b].map(worker);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    killed = true;
    a.child.kill('SIGKILL');
    await a.exited;
    const beforeKill = acknowledged.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    stop = true;
    await Promise.all(workers);
    expect(beforeKill, 'answers before the kill').to.be.greaterThan(0);
    expect(acknowledged.length, 'B answered after A was killed').to.be.greaterThan(beforeKill);
    for (const asked of acknowledged) {
      const signed = await entryAt(asked.auditIndex);
      expect(signed, `entry ${asked.auditIndex}`).to.include({ kind: 'verification.signed', answer_sha256: sha256Hex(asked.answer) });
    }
  });

  it('refuses to start an instance whose keys are not the ones the database was first used with', async function () {
    const other = testConfig(path.join(root, 'other'), { GATEWAY_DATABASE_URL: databaseUrl });
    await succeededInit(other);
    const refused = await spawnInstance('other', path.join(root, 'other'), other, databaseUrl).then(
      () => { throw new Error('an instance with other keys started'); }, (error: Error) => error.message);
    expect(refused).to.match(/key_mismatch/).and.match(/every gateway on one database must hold the same keys/);
  });

  it('`gateway audit verify` passes on the combined log', async function () {
    // A checkpoint over everything both wrote, signed by the instance that leads checkpoints (B, now that A is gone).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const verified = await runCli(path.join(root, 'b'), ['audit', 'verify', '--json'], {
      GATEWAY_DATA_DIR: path.join(root, 'b'), GATEWAY_KEYS_DIR: config.keysDir, GATEWAY_DATABASE_URL: databaseUrl,
    });
    const report = json<{ ok: boolean; tree_size: number; checkpoints_checked: number }>(verified);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(report.ok).to.equal(true);
    expect(report.tree_size).to.equal(await log.size());
  });
});
