/**
 * Benchmark child: the load generator of the verification bench (run.ts drives it; verifyServer.ts is the gateway).
 *
 *   verifyChild.js URL DIR ITEMS AMOUNT OFFSET CORE
 *
 * Builds AMOUNT verification requests of ITEMS items each (every item asks the three bench questions about one
 * seeded subject, under its consent; item k of request j is subject OFFSET + j * ITEMS + k, modulo the subjects),
 * and signs every one as the bank with a fresh jti (the gateway's replay cache refuses a repeat): RS256, the
 * bank's key parsed once. Signing costs about a millisecond of CPU per request here, which would make the load
 * generator the bottleneck, so the whole pool is signed BEFORE the clock starts, on both cores (the server is idle
 * then). Then the process pins itself and its threads to core CORE (`taskset -a -p`; "-" leaves it unpinned) and
 * autocannon sends the pool over 64 connections, each request taken from the pool by `setupRequest`, until every
 * request is answered (`amount`). Response bodies are scanned for the items' status. Prints one JSON line.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { createRequestSigner } from '../../gateway/client/client.js';
import { BENCH_QUESTIONS } from './verifyShared.js';
import type { BenchBank, LoadFigures, Subject } from './verifyShared.js';

const CONNECTIONS = 64;
const TARGET = '/v1/verifications';

const [url, dir, itemsArgument, amountArgument, offsetArgument, core] = process.argv.slice(2);
const ITEMS = Number(itemsArgument);
const AMOUNT = Number(amountArgument);
const OFFSET = Number(offsetArgument);
const bank = JSON.parse(fs.readFileSync(path.join(dir!, 'bank.json'), 'utf8')) as BenchBank;
const subjects = JSON.parse(fs.readFileSync(path.join(dir!, 'subjects.json'), 'utf8')) as Subject[];
const signer = createRequestSigner(bank);

interface Prepared {
  readonly body: Buffer;
  readonly authorization: string;
}

const signStarted = process.hrtime.bigint();
const pool: Prepared[] = [];
const IN_FLIGHT = 128;
for (let first = 0; first < AMOUNT; first += IN_FLIGHT) {
  const batch = Array.from({ length: Math.min(IN_FLIGHT, AMOUNT - first) }, async (_, offset) => {
    const j = first + offset;
    const items = Array.from({ length: ITEMS }, (_unused, k) => {
      const subject = subjects[(OFFSET + j * ITEMS + k) % subjects.length]!;
      return { subject: { uscc: subject.uscc }, consent_id: subject.consent_id, questions: [...BENCH_QUESTIONS] };
    });
    const body = Buffer.from(JSON.stringify({ loan_reference: `bench-${OFFSET}-${j}`, officer: 'bench-officer', items }), 'utf8');
    // 300 s: the longest lifetime the gateway accepts, so that the pool stays valid however long signing takes.
    const token = await signer.sign({ method: 'POST', path: TARGET, body, audience: bank.audience, lifetimeSeconds: 300 });
    return { body, authorization: `JWS ${token}` };
  });
  pool.push(...await Promise.all(batch));
}
const signSeconds = Number(process.hrtime.bigint() - signStarted) / 1e9;

if (core !== undefined && core !== '-') execFileSync('taskset', ['-a', '-p', '-c', core, String(process.pid)], { stdio: 'ignore' });

let next = 0;
let answeredItems = 0;
let refusedItems = 0;
let firstFailure: string | undefined;

function count(body: string, needle: string): number {
  let found = 0;
  for (let at = body.indexOf(needle); at !== -1; at = body.indexOf(needle, at + needle.length)) found++;
  return found;
}

const result = await autocannon({
  url: url!,
  connections: CONNECTIONS,
  amount: AMOUNT,
  timeout: 60,
  requests: [{
    method: 'POST',
    path: TARGET,
    setupRequest(request) {
      const prepared = pool[next++];
      if (!prepared) throw new Error('the pool of signed requests ran out');
      return { ...request, method: 'POST', path: TARGET, body: prepared.body, headers: { 'content-type': 'application/json', authorization: prepared.authorization } };
    },
    onResponse(status, body) {
      if (status >= 200 && status < 300) {
        answeredItems += count(body, '"status":"answered"');
        refusedItems += count(body, '"status":"refused"');
      } else {
        firstFailure ??= `${status} ${body.slice(0, 300)}`;
      }
    },
  }],
});

const figures: LoadFigures = {
  items: ITEMS,
  requests: result.requests.total,
  seconds: result.duration,
  signSeconds,
  status2xx: result['2xx'],
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  answeredItems,
  refusedItems,
  ...(firstFailure === undefined ? {} : { firstFailure }),
  latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
};
process.stdout.write(`${JSON.stringify(figures)}\n`);
