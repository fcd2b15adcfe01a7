/**
 * Benchmark child: the gateway side of the verification bench (run.ts drives it, verifyChild.ts is the load).
 *
 *   prepare DIR ENTERPRISES CONSENTS
 *     Creates keys and a data directory under DIR, loads ENTERPRISES demo enterprises through the ordinary ingestion
 *     path (loadDemoPopulation), enrols one bank participant (its credentials go to DIR/bank.json) and seeds CONSENTS
 *     consents of enterprises spread evenly over the population, addressed to that bank (DIR/subjects.json lists
 *     them). Prints one JSON line with the setup figures.
 *
 *     The consents are SEEDED: each is a consent.granted audit entry appended through the audit log and a row added
 *     with store.addConsent, as ConsentService.grant writes them, but without an enterprise participant behind it.
 *     Enrolling an enterprise (RSA key, certificate) costs about 100 ms, and granting through HTTP another signed
 *     request per consent: tens of minutes for the population. The verification path reads only the consent row
 *     (bank, subject, state, expiry, questions, uses), never the artefact, so what is measured is unchanged. The
 *     stored artefact is a compact JWS with the consent's real claims whose signature part is empty: `gateway
 *     consent verify` would rightly reject it.
 *
 *   serve DIR REUSE_SECONDS
 *     Opens the prepared directory and serves it on 127.0.0.1 (a free port) with startServer, as `gateway serve`
 *     does, with the bank and consent rate limits raised out of the way and GATEWAY_ANSWER_REUSE_SECONDS as given.
 *     Prints {"url": ...} once listening. On SIGTERM it stops (in-flight requests finish, the runtime closes), then
 *     counts, from the audit store on disk (BENCH_DATABASE_URL: PostgreSQL), the entries appended while it served, by kind, and prints one JSON line with
 *     them and its peak RSS.
 *
 *   baseline DIR
 *     The limit baseline (issue 14): the same HTTP stack on the same prepared directory — express, request ids and
 *     metrics, the signed-request authentication with its durable replay cache — answering POST /v1/verifications
 *     with no domain work: one durable group-committed audit append and the gateway's signature over a tiny answer.
 *     Prints and stops as serve does.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import type { Request, Response } from 'express';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { sha256Base64url } from '../../gateway/crypto/jws.js';
import { loadDemoPopulation } from '../../gateway/demo/load.js';
import { demoEnterprise } from '../../gateway/demo/population.js';
import { observeRequests } from '../../gateway/http/observe.js';
import { notFound, problemHandler } from '../../gateway/http/problems.js';
import { assignRequestId } from '../../gateway/http/requestContext.js';
import { startServer } from '../../gateway/http/server.js';
import { BODY_LIMITS, principalOf, signedRequest } from '../../gateway/http/signedRequest.js';
import { SIGNED_TYPES } from '../../gateway/signing/signer.js';
import { CONSENT_TYPE } from '../../gateway/identity/protocol.js';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { openGatewayAuditStore } from '../../gateway/runtime/stores.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';
import { BENCH_BANK, BENCH_PURPOSE, BENCH_QUESTIONS } from './verifyShared.js';
import type { PrepareFigures, ServeFigures, Subject } from './verifyShared.js';

const SEED = 42;
const CONSENT_DAYS = 30;

/** BENCH_DATABASE_URL: the PostgreSQL database to prepare and serve on (the engine bench); unset, SQLite. */
const DATABASE_URL = process.env['BENCH_DATABASE_URL'];

function config(dir: string, env: Record<string, string> = {}) {
  return testConfig(dir, {
    HOST: '127.0.0.1', PORT: '0', GATEWAY_INGEST_WORKERS: '2', GATEWAY_CHECKPOINT_INTERVAL_MS: '2000',
    GATEWAY_BANK_QUESTIONS_PER_SECOND: '10000000', GATEWAY_CONSENT_QUESTIONS_PER_MINUTE: '1000000',
    ...(DATABASE_URL === undefined ? {} : { GATEWAY_DATABASE_URL: DATABASE_URL }), ...env,
  });
}

/** Entries by kind from `first` on, read back from the store on disk after the server closed it. */
async function countEntries(cfg: ReturnType<typeof config>, first: number): Promise<Record<string, number>> {
  const store = await openGatewayAuditStore(cfg);
  const counts: Record<string, number> = {};
  try {
    const size = await store.size();
    for (let start = first; start < size; start += 10_000) {
      for (const entry of await store.entries({ start, end: Math.min(size, start + 10_000), limit: 10_000 })) counts[entry.kind] = (counts[entry.kind] ?? 0) + 1;
    }
  } finally {
    await store.close();
  }
  return counts;
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(file) : fs.statSync(file).size;
  }
  return total;
}

async function prepare(dir: string, enterprises: number, consents: number): Promise<void> {
  const started = process.hrtime.bigint();
  const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
  const cfg = config(dir);
  await prepareTestKeys(cfg);
  const runtime = (await openRuntime(cfg));
  try {
    const asOf = todayInShanghai();
    const options = { enterprises, seed: SEED, asOf };
    let rows = 0;
    const loadStarted = process.hrtime.bigint();
    await loadDemoPopulation(runtime.ingestor, options, (receipt) => {
      rows += receipt.rowCount;
      process.stderr.write(`    loaded ${receipt.dataset}: ${receipt.rowCount} rows (${seconds(loadStarted).toFixed(1)} s)\n`);
    });
    const loadSeconds = seconds(loadStarted);

    const pair = generateRsaKeyPair();
    const bank = await runtime.participants.add({
      participantId: BENCH_BANK, role: 'bank', name: 'Bench bank', publicKeyPem: pair.publicKeyPem, certificateDays: 30,
    });
    fs.writeFileSync(path.join(dir, 'bank.json'), JSON.stringify({
      participantId: bank.participantId, privateKeyPem: pair.privateKeyPem, certificatePem: bank.certificatePem, audience: cfg.gatewayId,
    }));

    const consentStarted = process.hrtime.bigint();
    const now = Math.floor(Date.now() / 1000);
    const subjects: Subject[] = [];
    const CHUNK = 1024;
    for (let first = 0; first < consents; first += CHUNK) {
      const chunk = Array.from({ length: Math.min(CHUNK, consents - first) }, (_, offset) => {
        const i = first + offset;
        const { uscc } = demoEnterprise(options, Math.floor((i * enterprises) / consents));
        const claims = {
          jti: `bench-consent-${String(i).padStart(8, '0')}`, iss: `bench-enterprise-${i}`, sub: uscc, aud: BENCH_BANK,
          purpose: BENCH_PURPOSE, questions: [...BENCH_QUESTIONS], iat: now, nbf: now, exp: now + CONSENT_DAYS * 86_400,
        };
        const artefact = `${base64urlJson({ alg: 'RS256', typ: CONSENT_TYPE, kid: claims.iss })}.${base64urlJson(claims)}.`;
        return { claims, artefact, artefactSha256: sha256Base64url(artefact) };
      });
      // Appended concurrently, so that the audit log group-commits them as it would concurrent grants.
      const appended = await Promise.all(chunk.map(({ claims, artefactSha256 }) => runtime.audit.log.append({
        kind: 'consent.granted', actor: claims.iss, subject: claims.sub, consentId: claims.jti,
        details: {
          bank: claims.aud, purpose: claims.purpose, questions: claims.questions, not_before: claims.nbf, expires_at: claims.exp,
          artefact_sha256: artefactSha256, seeded_by: 'bench',
        },
      })));
      for (const [offset, { claims, artefact, artefactSha256 }] of chunk.entries()) {
        // A consent is usable only while an enterprise participant acts for its USCC: one per USCC.
        if (!await runtime.store.enterpriseForUscc(claims.sub)) {
          const at = new Date(now * 1000).toISOString();
          await runtime.store.addParticipant({
            participantId: `bench-enterprise-${claims.sub.toLowerCase()}`, role: 'enterprise', name: 'Bench enterprise', uscc: claims.sub, datasets: [],
            status: 'active', certificatePem: 'bench', certificateSha256: `bench-${claims.sub}`, notAfter: at, createdAt: at, statusChangedAt: at,
          });
        }
        await runtime.store.addConsent({
          consentId: claims.jti, enterpriseId: claims.iss, uscc: claims.sub, bankId: claims.aud, purpose: claims.purpose,
          questions: claims.questions, notBefore: claims.nbf, expiresAt: claims.exp, maxUses: undefined, replaces: undefined,
          artefact, artefactSha256, grantedAt: new Date(now * 1000).toISOString(), auditIndex: appended[offset]!.index,
        }, false);
        subjects.push({ uscc: claims.sub, consent_id: claims.jti });
      }
    }
    const consentSeconds = seconds(consentStarted);
    fs.writeFileSync(path.join(dir, 'subjects.json'), JSON.stringify(subjects));
    await runtime.close();
    const figures: PrepareFigures = {
      enterprises, rows, loadSeconds, consents, consentSeconds, seconds: seconds(started), dataBytes: directoryBytes(cfg.dataDir),
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } catch (error) {
    await runtime.close().catch(() => undefined);
    throw error;
  }
}

/** What the baseline answers with: the signed-request stack and the two durable steps every answer has, nothing else. */
async function startBaseline(runtime: Runtime): Promise<{ url: string; stop(): Promise<void> }> {
  const logger = createLogger('silent');
  const metrics = createMetrics();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(assignRequestId, observeRequests(logger, metrics));
  app.post('/v1/verifications', ...signedRequest(runtime.authenticator, ['bank'], BODY_LIMITS.verification), async (_req: Request, res: Response) => {
    const principal = principalOf(res);
    const appended = await runtime.audit.log.append({ kind: 'audit.read', actor: principal.participantId, details: { request_sha256: principal.requestSha256 } });
    const answer = await runtime.signer.sign(SIGNED_TYPES.verification, principal.participantId, { request_sha256: principal.requestSha256, audit_index: appended.index });
    res.status(200).json({ answer });
  });
  app.use(notFound, problemHandler(logger, metrics));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    },
  };
}

async function serve(dir: string, reuseSeconds: string, mode: 'serve' | 'baseline'): Promise<void> {
  const cfg = config(dir, { GATEWAY_ANSWER_REUSE_SECONDS: reuseSeconds });
  const runtime = (await openRuntime(cfg));
  const firstIndex = await runtime.audit.log.size();
  const running = mode === 'serve' ? await startServer(runtime, createLogger('silent'), createMetrics()) : await startBaseline(runtime);
  // The soak reads the server's memory over time: one line per sample, after the {url} line.
  const sampleMs = Number(process.env['BENCH_MEMORY_SAMPLE_MS'] ?? 0);
  const sample = () => {
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ memory: { at: Date.now(), rss, heapUsed, external, arrayBuffers } })}\n`);
  };
  // The first sample before any request: the baseline the soak compares with.
  if (sampleMs > 0) sample();
  const sampler = sampleMs > 0 ? setInterval(sample, sampleMs) : undefined;
  process.once('SIGTERM', () => {
    if (sampler) clearInterval(sampler);
    void (async () => {
      await running.stop();
      const cpu = process.cpuUsage();
      const figures: ServeFigures = {
        appended: await countEntries(cfg, firstIndex),
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      };
      process.stdout.write(`${JSON.stringify(figures)}\n`);
      process.exit(0);
    })();
  });
  process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
}

const [mode, dir, ...rest] = process.argv.slice(2);
if (mode === 'prepare') await prepare(dir!, Number(rest[0]), Number(rest[1]));
else if (mode === 'serve') await serve(dir!, rest[0] ?? '0', 'serve');
else if (mode === 'baseline') await serve(dir!, '0', 'baseline');
else throw new Error('usage: verifyServer.js prepare DIR ENTERPRISES CONSENTS | serve DIR REUSE_SECONDS | baseline DIR');
