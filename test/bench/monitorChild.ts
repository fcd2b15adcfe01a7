/**
 * Benchmark child for monitoring: N subjects in medical_insurance_arrears, each watched by one bank subscription
 * (rule medical_arrears_appeared), then one batch that restates every subject and changes 1 % of them to owing.
 * Measures from the start of that ingestion until the local receiver has verified every alert (Standard Webhooks
 * signature), and prints one JSON line.
 *
 * Setup writes the enterprise participants, consents and subscriptions straight into the database in one transaction (signing 100,000
 * consents would measure RSA, not monitoring); the baseline answers it writes are what subscribing would store
 * (false: nothing owed). The measured path is the real one: ingestion with change detection in its transaction,
 * the outbox, signing, audit entries and webhook delivery by the gateway's worker.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { Webhook } from 'standardwebhooks';
import { createBlindIndexer } from '../../gateway/crypto/index.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { usccCheckCharacter } from '../../gateway/identifiers/index.js';
import { loadSecrets } from '../../gateway/keys/index.js';
import { DATABASE_FILE, openRuntime } from '../../gateway/runtime/index.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const [dir, subjectsArgument] = process.argv.slice(2);
const SUBJECTS = Number(subjectsArgument ?? 100_000);
const CHANGED = Math.round(SUBJECTS / 100);
const config = testConfig(dir!, {
  GATEWAY_INGEST_WORKERS: '2', GATEWAY_ALERT_POLL_MS: '100', GATEWAY_ALERT_CONCURRENCY_PER_BANK: '32', GATEWAY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
});
await prepareTestKeys(config);

const usccs = Array.from({ length: SUBJECTS }, (_, n) => {
  const first17 = `91370100${String(n).padStart(9, '0')}`;
  return first17 + usccCheckCharacter(first17);
});
const csv = (owing: (n: number) => boolean) =>
  Readable.from([Buffer.from(`enterprise_name,uscc,arrears_period,arrears_amount\n${usccs.map((code, n) => `Co ${n},${code},2026-09,${owing(n) ? '1500.00' : '0'}`).join('\n')}\n`)]);

let runtime = (await openRuntime(config));
const baselineStarted = process.hrtime.bigint();
await runtime.ingestor.ingest({ dataset: 'medical_insurance_arrears', format: 'csv', source: 'bench', asOf: '2026-10-01', batchId: 'baseline', input: csv(() => false) });
const baselineSeconds = Number(process.hrtime.bigint() - baselineStarted) / 1e9;
const pair = generateRsaKeyPair();
await runtime.participants.add({ participantId: 'bank-bench', role: 'bank', name: 'Bench bank', publicKeyPem: pair.publicKeyPem, certificateDays: 30 });

let verified = 0;
let rejected = 0;
const seen = new Set<string>();
let done: () => void = () => undefined;
const allArrived = new Promise<void>((resolve) => { done = resolve; });
let webhook: Webhook | undefined;
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      webhook!.verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>, { jsonParse: false });
    } catch {
      rejected++;
      res.writeHead(401).end();
      return;
    }
    const id = String(req.headers['webhook-id']);
    if (!seen.has(id)) {
      seen.add(id);
      verified++;
    }
    res.writeHead(204).end();
    if (verified === CHANGED) done();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const secret = (await runtime.configureWebhook('bank-bench', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts` })).secret!;
webhook = new Webhook(secret);
await runtime.close();

// Consents and subscriptions, written directly (see above).
const indexer = createBlindIndexer(loadSecrets(config.keysDir).blindIndex);
const db = new Database(path.join(config.dataDir, DATABASE_FILE));
const now = Math.floor(Date.now() / 1000);
db.transaction(() => {
  const consent = db.prepare(`INSERT INTO consents (consent_id, enterprise_id, uscc, bank_id, purpose, questions, not_before, expires_at, state, artefact,
    artefact_sha256, granted_at, audit_index) VALUES (?, ?, ?, 'bank-bench', 'post_loan_management', '["medical_arrears_now"]', ?, ?, 'active', 'bench', 'bench', ?, 0)`);
  const subscription = db.prepare(`INSERT INTO subscriptions (subscription_id, bank_id, consent_id, uscc, subject_index, rules, state, created_at, audit_index)
    VALUES (?, 'bank-bench', ?, ?, ?, '["medical_arrears_appeared"]', 'active', ?, 0)`);
  const answer = db.prepare(`INSERT INTO monitor_answers (subscription_id, question_id, answer) VALUES (?, 'medical_arrears_now', 'false')`);
  // Alerts go only to subjects whose enterprise participant is active (a revoked or suspended one pauses them).
  const enterprise = db.prepare(`INSERT INTO participants (participant_id, role, name, uscc, status, certificate_pem, certificate_sha256, not_after, created_at,
    status_changed_at) VALUES (?, 'enterprise', ?, ?, 'active', 'bench', ?, ?, ?, ?)`);
  const at = new Date().toISOString();
  for (const [n, code] of usccs.entries()) {
    const consentId = `bench-consent-${String(n).padStart(8, '0')}`;
    const subscriptionId = randomUUID();
    enterprise.run(`enterprise-${n}`, `Co ${n}`, code, `bench-${n}`, new Date((now + 30 * 86_400) * 1000).toISOString(), at, at);
    consent.run(consentId, `enterprise-${n}`, code, now - 60, now + 30 * 86_400, at);
    subscription.run(subscriptionId, consentId, code, indexer.subject({ idType: 'uscc', idNumber: code }), at);
    answer.run(subscriptionId);
  }
})();
db.close();

runtime = (await openRuntime(config));
runtime.monitoring.delivery.start();
const started = process.hrtime.bigint();
const receipt = await runtime.ingestor.ingest({
  dataset: 'medical_insurance_arrears', format: 'csv', source: 'bench', asOf: '2026-11-01', batchId: 'changes',
  input: csv((n) => n % 100 === 0),
});
const committedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
// A bench that waits forever measures nothing: say how far delivery got instead.
const STALL_MS = 120_000;
let stall: NodeJS.Timeout | undefined;
await Promise.race([allArrived, new Promise<never>((_, reject) => {
  stall = setTimeout(() => reject(new Error(`${verified} of ${CHANGED} alerts arrived within ${STALL_MS / 1000} s of the batch's commit (${rejected} rejected)`)), STALL_MS);
})]);
clearTimeout(stall);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await runtime.close();
receiver.close();
process.stdout.write(`${JSON.stringify({ subjects: SUBJECTS, rows: receipt.rowCount, alerts: verified, rejected, baselineSeconds, committedSeconds, seconds })}\n`);
