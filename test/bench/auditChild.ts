/**
 * Benchmark child: the audit log (gateway/audit/log.ts over the SQLite audit store). Prints one JSON line.
 *
 * `append DIR N K`: a fresh DIR/audit.sqlite; N appends of a verification-answer-like event, K callers in a closed
 * loop (each awaits its append — resolved only after its group's durable commit — then issues the next). Appends/s,
 * per-append latency (from the call to the resolution of its promise), and the commits counted by wrapping the
 * store's append, hence the mean group size.
 *
 * `proofs DIR N Q`: builds an N-entry log as fast as the log allows (4,096 appends in flight), then on a FRESH log
 * object over a reopened store (empty hash cache), after a warm-up on another log object, times Q random entry reads,
 * inclusion proofs (alone, and with the root, as the endpoint serves them) and consistency proofs (alone, and with
 * both roots). A sample of the proofs is verified with gateway/audit/verify.ts against roots computed here
 * independently, from the leaf hashes, with a compact Merkle range — so the figures are of proofs that are right.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createAuditLog } from '../../gateway/audit/log.js';
import type { AuditLog } from '../../gateway/audit/log.js';
import type { AuditEvent } from '../../gateway/audit/events.js';
import { verifyConsistency, verifyInclusion } from '../../gateway/audit/verify.js';
import { leafHash, nodeHash } from '../../gateway/crypto/merkleHash.js';
import { openPostgresAuditStore, openSqliteAuditStore } from '../../gateway/store/index.js';
import type { AuditStore } from '../../gateway/store/index.js';

const [mode, dir, firstArgument, secondArgument] = process.argv.slice(2);
const file = path.join(dir!, 'audit.sqlite');

/** Distinct 64-hex hashes to draw from, so that making an event costs what a server's would (it has the hashes). */
const HEX = Array.from({ length: 4096 }, (_, i) => createHash('sha256').update(`bench-${i}`).digest('hex'));

/** An answer to a bank's verification request, as the gateway would log it: about 420 bytes of canonical JSON. */
function event(i: number): AuditEvent {
  const bank = `bank-${String(i % 97).padStart(4, '0')}`;
  return {
    kind: 'audit.read',
    actor: bank,
    subject: `9131000${String((i * 7919) % 10_000_000_000).padStart(10, '0')}X`,
    consentId: `consent-${String(i % 50_021).padStart(8, '0')}`,
    details: {
      request_id: `req-${i.toString(36).padStart(10, '0')}`,
      dataset: 'medical_insurance_arrears',
      purpose: 'loan_review',
      question: 'arrears_over_3_months',
      answer: i % 5 === 0 ? 'yes' : 'no',
      request_hash: HEX[i % 4096]!,
      answer_hash: HEX[(i * 31 + 7) % 4096]!,
      as_of: '2026-11-01',
    },
  };
}

/** Wraps the store's append to count commits (one transaction each). */
function counting(store: AuditStore): { store: AuditStore; commits: () => number } {
  let commits = 0;
  return {
    store: { ...store, append: (build) => { commits += 1; return store.append(build); } },
    commits: () => commits,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function summary(micros: Float64Array): { p50: number; p99: number; max: number; mean: number } {
  const sorted = Float64Array.from(micros).sort();
  let total = 0;
  for (const value of micros) total += value;
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1]!, mean: total / micros.length };
}

/** K callers, each appending and awaiting until `count` appends have been issued; latencies in µs. */
async function closedLoop(log: AuditLog, count: number, callers: number, onAppended?: (index: number, hash: Buffer) => void): Promise<Float64Array> {
  const latencies = new Float64Array(count);
  let next = 0;
  async function caller(): Promise<void> {
    while (next < count) {
      const i = next++;
      const started = process.hrtime.bigint();
      const appended = await log.append(event(i));
      latencies[i] = Number(process.hrtime.bigint() - started) / 1e3;
      onAppended?.(appended.index, appended.leafHash);
    }
  }
  await Promise.all(Array.from({ length: callers }, caller));
  return latencies;
}

/** BENCH_DATABASE_URL: append to the audit log on this PostgreSQL database (the engine bench) instead of audit.sqlite. */
async function openAppendStore(): Promise<AuditStore> {
  const url = process.env['BENCH_DATABASE_URL'];
  return url === undefined ? openSqliteAuditStore({ file }) : openPostgresAuditStore({ url });
}

async function appendBench(count: number, callers: number): Promise<void> {
  const counted = counting(await openAppendStore());
  const log = createAuditLog(counted.store);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const latencies = await closedLoop(log, count, callers);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  if (await log.size() !== count) throw new Error(`the log holds ${await log.size()} entries, not ${count}`);
  const sample = await log.entries({ start: 0, end: 1000, limit: 1000 });
  const meanEntryBytes = sample.reduce((total, entry) => total + entry.entry.length, 0) / sample.length;
  await counted.store.close();
  const latency = summary(latencies);
  process.stdout.write(`${JSON.stringify({
    appends: count, callers, meanEntryBytes, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, commits: counted.commits(),
    p50Micros: latency.p50, p99Micros: latency.p99, maxMicros: latency.max,
  })}\n`);
}

/** Uniform integer in [lo, hi], from a seeded generator (mulberry32), so that every run asks the same questions. */
function generator(seed: number): (lo: number, hi: number) => number {
  let state = seed >>> 0;
  return (lo, hi) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + Math.floor(unit * (hi - lo + 1));
  };
}

/** RFC 6962 roots of the prefixes of the leaves, computed with a compact range (perfect subtrees on a stack). */
function independentRoots(leaves: Buffer, count: number, sizes: ReadonlySet<number>): Map<number, Buffer> {
  const roots = new Map<number, Buffer>();
  const stack: { hash: Buffer; width: number }[] = [];
  for (let i = 0; i < count; i++) {
    stack.push({ hash: leaves.subarray(i * 32, i * 32 + 32), width: 1 });
    while (stack.length >= 2 && stack.at(-1)!.width === stack.at(-2)!.width) {
      const right = stack.pop()!;
      const left = stack.pop()!;
      stack.push({ hash: nodeHash(left.hash, right.hash), width: left.width * 2 });
    }
    if (sizes.has(i + 1)) roots.set(i + 1, stack.map((part) => part.hash).reduceRight((right, left) => nodeHash(left, right)));
  }
  return roots;
}

/**
 * A timed series: wall-clock latencies of the calls that succeeded, the process CPU time each took (user + system,
 * which leaves out time spent waiting for a core on a shared machine), and the calls that threw (counted, not timed).
 */
interface Series {
  readonly micros: Float64Array;
  readonly cpuMicros: Float64Array;
  readonly failures: number;
  readonly firstError: string | undefined;
}

/**
 * Times each call. A call that throws is counted and its error kept, not timed: the bench reports failures rather
 * than hiding them or stopping (see the docs section for the one found).
 */
async function timeEach(count: number, operation: (query: number) => Promise<void>): Promise<Series> {
  const micros: number[] = [];
  const cpuMicros: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  for (let q = 0; q < count; q++) {
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    try {
      await operation(q);
    } catch (error) {
      failures += 1;
      firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      continue;
    }
    micros.push(Number(process.hrtime.bigint() - started) / 1e3);
    const cpu = process.cpuUsage(cpuBefore);
    cpuMicros.push(cpu.user + cpu.system);
  }
  return { micros: Float64Array.from(micros), cpuMicros: Float64Array.from(cpuMicros), failures, firstError };
}

async function proofBench(count: number, queries: number): Promise<void> {
  const random = generator(20261125);
  // The questions: tree sizes in the upper half of the log (as recent checkpoints are), indexes below them.
  const inclusion = Array.from({ length: queries }, () => {
    const size = random(Math.floor(count / 2) + 1, count);
    return { index: random(0, size - 1), size };
  });
  const consistency = Array.from({ length: queries }, () => {
    const second = random(Math.floor(count / 2) + 1, count);
    return { first: random(1, second), second };
  });
  const warmInclusion = Array.from({ length: 2000 }, () => ({ index: random(0, count - 1), size: count }));
  const reads = Array.from({ length: queries }, () => random(0, count - 1));
  // Every 50th question of each kind is verified against independently computed roots, and so is the whole log's root.
  const VERIFY_EVERY = 50;
  const sizes = new Set<number>([count]);
  for (let q = 0; q < queries; q += VERIFY_EVERY) {
    sizes.add(inclusion[q]!.size);
    sizes.add(consistency[q]!.first);
    sizes.add(consistency[q]!.second);
  }

  // Build.
  const leaves = Buffer.alloc(count * 32);
  const counted = counting(openSqliteAuditStore({ file }));
  const builder = createAuditLog(counted.store);
  const buildStarted = process.hrtime.bigint();
  // Appends/s over each tenth of the build, to show how the rate changes as the log grows.
  const tenth = Math.ceil(count / 10);
  const tenthRates: number[] = [];
  let done = 0;
  let tenthStarted = buildStarted;
  await closedLoop(builder, count, 4096, (index, hash) => {
    hash.copy(leaves, index * 32);
    if (++done % tenth === 0 || done === count) {
      const now = process.hrtime.bigint();
      tenthRates.push((done % tenth || tenth) / (Number(now - tenthStarted) / 1e9));
      tenthStarted = now;
    }
  });
  const buildSeconds = Number(process.hrtime.bigint() - buildStarted) / 1e9;
  const buildCommits = counted.commits();
  await counted.store.close();
  const databaseBytes = ['', '-wal', '-shm'].reduce((total, suffix) => total + (fs.existsSync(file + suffix) ? fs.statSync(file + suffix).size : 0), 0);
  const roots = independentRoots(leaves, count, sizes);

  // Serve: reopen, warm up (JIT, SQLite) on one log object, then measure on a fresh one whose hash cache is empty.
  const store = openSqliteAuditStore({ file });
  const warm = createAuditLog(store);
  if (await warm.size() !== count) throw new Error(`the reopened log holds ${await warm.size()} entries, not ${count}`);
  const warmUp = await timeEach(warmInclusion.length, async (q) => {
    const { index, size } = warmInclusion[q]!;
    await warm.entries({ start: index, end: index + 1, limit: 1 });
    await warm.inclusionProof(index, size);
    await warm.rootAt(size);
    await warm.consistencyProof(Math.max(1, index), size);
  });
  const log = createAuditLog(store);
  const figures = {
    entryRead: await timeEach(queries, async (q) => { await log.entries({ start: reads[q]!, end: reads[q]! + 1, limit: 1 }); }),
    inclusionProof: await timeEach(queries, async (q) => { await log.inclusionProof(inclusion[q]!.index, inclusion[q]!.size); }),
    consistencyProof: await timeEach(queries, async (q) => { await log.consistencyProof(consistency[q]!.first, consistency[q]!.second); }),
  };
  // The endpoints' work, on another fresh log object: entry read + leaf hash + proof + root; two roots + proof.
  const served = createAuditLog(store);
  const endpoints = {
    inclusionServed: await timeEach(queries, async (q) => {
      const { index, size } = inclusion[q]!;
      const [entry] = await served.entries({ start: index, end: index + 1, limit: 1 });
      leafHash(entry!.entry);
      await served.inclusionProof(index, size);
      await served.rootAt(size);
    }),
    consistencyServed: await timeEach(queries, async (q) => {
      const { first, second } = consistency[q]!;
      await served.rootAt(first);
      await served.rootAt(second);
      await served.consistencyProof(first, second);
    }),
  };
  // And proof + root alone, on a fresh object again (so the root's hashes are not already cached by the above).
  const rooted = createAuditLog(store);
  const inclusionWithRoot = await timeEach(queries, async (q) => {
    await rooted.inclusionProof(inclusion[q]!.index, inclusion[q]!.size);
    await rooted.rootAt(inclusion[q]!.size);
  });

  // Verify a sample against the independent roots, with leaf hashes of the entries as stored.
  const check = createAuditLog(store);
  let verified = 0;
  for (let q = 0; q < queries; q += VERIFY_EVERY) {
    const { index, size } = inclusion[q]!;
    const [entry] = await check.entries({ start: index, end: index + 1, limit: 1 });
    if (!(await check.rootAt(size)).equals(roots.get(size)!)) throw new Error(`rootAt(${size}) differs from the independent root`);
    verifyInclusion(BigInt(index), BigInt(size), leafHash(entry!.entry), await check.inclusionProof(index, size), roots.get(size)!);
    const { first, second } = consistency[q]!;
    verifyConsistency(BigInt(first), BigInt(second), await check.consistencyProof(first, second), roots.get(first)!, roots.get(second)!);
    verified += 2;
  }
  if (!(await check.rootAt(count)).equals(roots.get(count)!)) throw new Error('the root of the whole log differs from the independent root');
  await store.close();

  const out: Record<string, unknown> = {
    entries: count, queries, buildSeconds, buildCommits, tenthRates, databaseBytes, verified,
    warmUpFailures: warmUp.failures, warmUpFirstError: warmUp.firstError,
  };
  for (const [name, series] of Object.entries({ ...figures, ...endpoints, inclusionWithRoot })) {
    const cpu = summary(series.cpuMicros);
    out[name] = { ...summary(series.micros), cpuP50: cpu.p50, cpuP99: cpu.p99, failures: series.failures, firstError: series.firstError };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (mode === 'append') await appendBench(Number(firstArgument), Number(secondArgument));
else if (mode === 'proofs') await proofBench(Number(firstArgument), Number(secondArgument));
else throw new Error(`unknown mode ${mode}`);
