/**
 * Benchmark child: the load of the memory soak (run.ts drives it; verifyServer.ts serves).
 *
 *   soakChild.js URL DIR SECONDS IN_FLIGHT
 *
 * For SECONDS, keeps IN_FLIGHT single-item verification requests in flight, each about the next seeded subject
 * (round robin over DIR/subjects.json, so a small population is asked about again and again) and signed just before
 * it is sent with a fresh jti: a sustained load without a pool of pre-signed requests, which a run of minutes would
 * need far too many of. Prints one JSON line: requests by status class.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequestSigner } from '../../gateway/client/client.js';
import { BENCH_QUESTIONS } from './verifyShared.js';
import type { BenchBank, Subject } from './verifyShared.js';

const TARGET = '/v1/verifications';
const [url, dir, secondsArgument, inFlightArgument] = process.argv.slice(2);
const bank = JSON.parse(fs.readFileSync(path.join(dir!, 'bank.json'), 'utf8')) as BenchBank;
const subjects = JSON.parse(fs.readFileSync(path.join(dir!, 'subjects.json'), 'utf8')) as Subject[];
const signer = createRequestSigner(bank);
const until = Date.now() + Number(secondsArgument) * 1000;

let next = 0;
const counts = { ok: 0, failed: 0 };
let firstFailure: string | undefined;

async function worker(): Promise<void> {
  while (Date.now() < until) {
    const subject = subjects[next++ % subjects.length]!;
    const body = Buffer.from(JSON.stringify({
      loan_reference: `soak-${next}`, officer: 'soak', items: [{ subject: { uscc: subject.uscc }, consent_id: subject.consent_id, questions: [...BENCH_QUESTIONS] }],
    }), 'utf8');
    const token = await signer.sign({ method: 'POST', path: TARGET, body, audience: bank.audience });
    const response = await fetch(`${url!}${TARGET}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `JWS ${token}` } });
    const text = await response.text();
    if (response.ok) counts.ok += 1;
    else {
      counts.failed += 1;
      firstFailure ??= `${response.status} ${text.slice(0, 300)}`;
    }
  }
}

await Promise.all(Array.from({ length: Number(inFlightArgument) }, worker));
process.stdout.write(`${JSON.stringify({ ...counts, ...(firstFailure === undefined ? {} : { firstFailure }) })}\n`);
