// Pins "counts agree with the log": a process SIGKILLed between an answer's use count (records database) and its
// audit entry (audit database) leaves the count ahead of the log, and its consent exhausted by an answer nobody got;
// `gateway serve`'s start recounts from the audit log, so that `uses` equals the fresh answers logged, the consent is
// active again, and the next answer is counted and logged alike.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { reconcileConsentUses } from '../../gateway/consent/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';
import { serveUntilListening } from '../support/serve.js';

const CHILD = fileURLToPath(new URL('./useCrashChild.js', import.meta.url));
const USCC = '91350100M000100Y43';
const BANK = 'bank-crash';
const QUESTION = 'medical_arrears_now';
const MAX_USES = 4;
/** Answers the child gets (and logs) before it is killed inside the next one. */
const ANSWERED = MAX_USES - 1;

/** Runs the child until it dies; resolves with the signal that ended it and the answers it printed. */
function runChild(dir: string, consentId: string): Promise<{ signal: NodeJS.Signals | null; answered: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, consentId, USCC, BANK, QUESTION, String(ANSWERED)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.once('error', reject);
    child.once('close', (_code, signal) => {
      clearTimeout(timer);
      resolve({ signal, answered: stdout.split('\n').filter((line) => line.startsWith('answered ')).length });
    });
  });
}

/** Fresh answers under the consent in the audit log. */
async function loggedAnswers(runtime: Runtime, consentId: string): Promise<number> {
  return await (await runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, consentId, kind: 'verification.answered', limit: 1000 }))
    .map((entry) => JSON.parse(Buffer.from(entry.entry).toString('utf8')) as { questions: { repeated: boolean }[] })
    .reduce((sum, entry) => sum + entry.questions.filter((question) => !question.repeated).length, 0);
}

async function withRuntime<T>(config: GatewayConfig, use: (runtime: Runtime) => T): Promise<T> {
  const runtime = await openRuntime(config);
  try {
    const result = use(runtime);
    return await runtime.close().then(() => result);
  } catch (error) {
    return runtime.close().then(() => { throw error; });
  }
}

describe('consent use counts after a crash between a use and its audit entry', function () {
  this.timeout(120_000);
  let dir: string;
  let config: GatewayConfig;
  let consentId: string;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-usecrash-'));
    config = testConfig(dir, { GATEWAY_INGEST_WORKERS: '1' });
    await prepareTestKeys(config);
    consentId = randomUUID();
    // The enterprise acting for the USCC: a consent is usable only while one is active (docs/consent.md).
    const at = new Date().toISOString();
    await withRuntime(config, async (runtime) => runtime.store.addParticipant({
      participantId: 'enterprise-crash', role: 'enterprise', name: 'Crash test enterprise', uscc: USCC, datasets: [], status: 'active',
      certificatePem: 'crash-test', certificateSha256: 'crash-test', notAfter: at, createdAt: at, statusChangedAt: at,
    }));
    await withRuntime(config, async (runtime) => runtime.store.addConsent({
      consentId, enterpriseId: 'enterprise-crash', uscc: USCC, bankId: BANK, purpose: 'loan_approval', questions: [QUESTION],
      notBefore: 0, expiresAt: Math.floor(Date.now() / 1000) + 86_400, maxUses: MAX_USES, replaces: undefined, artefact: 'crash-test',
      artefactSha256: 'crash-test', grantedAt: new Date().toISOString(), auditIndex: 0,
    }, false));
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a SIGKILL in the window leaves the count ahead of the log, and the consent exhausted', async function () {
    const run = await runChild(dir, consentId);
    expect(run.signal).to.equal('SIGKILL');
    expect(run.answered).to.equal(ANSWERED);
    await withRuntime(config, async (runtime) => {
      const consent = await runtime.store.getConsent(consentId);
      expect(consent).to.include({ uses: MAX_USES, state: 'exhausted' });
      expect(await loggedAnswers(runtime, consentId)).to.equal(ANSWERED);
    });
  });

  it('`gateway serve` recounts at start: uses equals the answers in the log, and the consent is active again', async function () {
    const served = await serveUntilListening(config);
    expect(served.code).to.equal(0);
    expect(served.stderr + served.stdout).to.include('consent use counts set to the answers in the audit log');
    await withRuntime(config, async (runtime) => {
      const consent = await runtime.store.getConsent(consentId);
      expect(consent).to.include({ uses: ANSWERED, state: 'active' });
      expect(consent?.endedAt).to.equal(undefined);
      expect(await loggedAnswers(runtime, consentId)).to.equal(ANSWERED);
      // Nothing left to recount.
      expect(await reconcileConsentUses(runtime.store, runtime.audit.log)).to.deep.equal([]);
    });
  });

  it('the last use the budget allows is then answered, counted and logged alike', async function () {
    const runtime = (await openRuntime(config));
    try {
      const jti = randomUUID();
      const result = await runtime.verifications.verify(
        { participantId: BANK, role: 'bank', name: BANK, uscc: undefined, datasets: [], certificateSha256: 'crash-test', jti, requestSha256: jti },
        { loan_reference: 'LN-after', officer: 'crash-test', items: [{ subject: { uscc: USCC }, consent_id: consentId, questions: [QUESTION] }] },
      );
      expect(result.items[0]?.status).to.equal('answered');
      expect(await runtime.store.getConsent(consentId)).to.include({ uses: MAX_USES, state: 'exhausted' });
      expect((await loggedAnswers(runtime, consentId))).to.equal(MAX_USES);
    } finally {
      await runtime.close();
    }
  });
});
