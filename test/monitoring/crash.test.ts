import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { Readable } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'mocha';
import { GatewayClient, signConsent } from '../../gateway/client/client.js';
import type { ParticipantCredentials } from '../../gateway/client/client.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import type { Principal } from '../../gateway/identity/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { SIGNED_TYPES } from '../../gateway/signing/signer.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';
import { startReceiver } from './receiver.js';
import { arrearsCsv, uscc } from './support.js';

const CHILD = fileURLToPath(new URL('./gatewayChild.js', import.meta.url));
const SUBJECTS = 40;

async function enrol(runtime: Runtime, role: 'bank' | 'enterprise', id: string, subject?: string): Promise<{ credentials: ParticipantCredentials; principal: Principal }> {
  const pair = generateRsaKeyPair();
  const record = await runtime.participants.add({ participantId: id, role, name: id, uscc: subject, publicKeyPem: pair.publicKeyPem, certificateDays: 30 });
  return {
    credentials: { participantId: id, privateKeyPem: pair.privateKeyPem, certificatePem: record.certificatePem },
    principal: {
      participantId: id, role, name: id, uscc: subject, datasets: [], certificateSha256: record.certificateSha256, jti: `setup-${id}`,
      requestSha256: '0'.repeat(64),
    },
  };
}

function serve(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening (\S+)\n/.exec(output);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`gateway child exited with ${code} before listening`)));
  });
}

describe('alert delivery across a SIGKILL', function () {
  it('loses nothing: every alert arrives after the gateway is killed mid-delivery and restarted', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-monitor-crash-'));
    const receiver = await startReceiver();
    let child: ChildProcess | undefined;
    try {
      const config = testConfig(dir, { GATEWAY_INGEST_WORKERS: '1', GATEWAY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32' });
      await prepareTestKeys(config);
      // Setup in this process, without a delivery worker: alerts wait in the outbox.
      const runtime = (await openRuntime(config));
      const bank = await enrol(runtime, 'bank', 'bank-crash');
      receiver.secret = (await runtime.configureWebhook('bank-crash', { url: receiver.url })).secret;
      const subjects = Array.from({ length: SUBJECTS }, (_, n) => uscc(1000 + n));
      for (const [n, subject] of subjects.entries()) {
        const enterprise = await enrol(runtime, 'enterprise', `enterprise-crash-${n}`, subject);
        const token = await signConsent(enterprise.credentials, { uscc: subject, bank: 'bank-crash', purpose: 'post_loan_management', questions: ['risk_monitoring'], days: 30 });
        const { consent } = await runtime.consents.grant(enterprise.principal, token);
        await runtime.monitoring.subscriptions.subscribe(bank.principal, { consent_id: consent.consent_id, subject: { uscc: subject } });
      }
      await runtime.ingestor.ingest({
        dataset: 'medical_insurance_arrears', format: 'csv', source: 'test',
        input: Readable.from([Buffer.from(arrearsCsv(subjects.map((subject) => ({ uscc: subject, amount: '12.00' }))))]),
      });
      const events = (await runtime.monitoring.listEvents({ state: 'pending' }, 1000)).map((event) => event.event_id);
      assert.equal(events.length, SUBJECTS);
      await runtime.close();

      // Slow receiver: deliveries are in flight when the gateway is killed.
      receiver.delayMs = 150;
      child = (await serve(dir)).child;
      await receiver.waitFor(6);
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
      const beforeKill = receiver.unique.length;
      assert.ok(beforeKill < SUBJECTS, `all ${beforeKill} arrived before the kill; the test needs some in flight`);

      receiver.delayMs = 0;
      const restarted = await serve(dir);
      child = restarted.child;
      await receiver.waitFor(SUBJECTS);
      assert.deepEqual(receiver.unique.map((delivery) => delivery.id).sort(), [...events].sort());
      assert.equal(receiver.rejected, 0);
      const client = new GatewayClient({ baseUrl: restarted.url, credentials: bank.credentials });
      for (const delivery of receiver.unique) {
        const verified = await client.verify(delivery.body, SIGNED_TYPES.alert);
        assert.equal(verified.claims['jti'], delivery.id);
      }
    } finally {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child!.once('exit', resolve));
      }
      await receiver.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
