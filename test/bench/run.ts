/**
 * `npm run bench`: measures what the issues set targets for, and writes the figures into docs/benchmarks.md
 * (between the bench markers) with the command and the machine. Figures come only from this run.
 *
 * Ingestion: 1,000,000 rows of medical_insurance_payments as CSV (demo population rows), end to end — parse,
 * validate, seal, blind-index, commit — in a child process, for each worker count; rows/s and peak RSS.
 * Request authentication: signed requests verified per second on one core (authChild.ts, under taskset).
 *
 * BENCH_ONLY=ingest|auth runs one of them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoPopulation } from '../../gateway/demo/population.js';
import { packageRoot } from '../../gateway/paths.js';

const ROWS = Number(process.env['BENCH_INGEST_ROWS'] ?? 1_000_000);
const WORKER_COUNTS = [1, 2];
const CHILD = fileURLToPath(new URL('./ingestChild.js', import.meta.url));
const AUTH_CHILD = fileURLToPath(new URL('./authChild.js', import.meta.url));
const AUTH_REQUESTS = Number(process.env['BENCH_AUTH_REQUESTS'] ?? 10_000);
const ONLY = process.env['BENCH_ONLY'];

interface IngestFigures {
  rows: number;
  seconds: number;
  peakRssMiB: number;
}

function writeCsv(file: string): void {
  const [payments] = demoPopulation({ enterprises: Math.ceil(ROWS / 24), seed: 42, asOf: '2026-11-01' });
  const fields = ['enterprise_name', 'uscc', 'contribution_month', 'insured_headcount', 'employer_contribution_amount', 'payment_date', 'latest_normal_payment_month', 'deferred_amount', 'deferral_date'];
  const out = fs.openSync(file, 'w');
  let text = `${fields.join(',')}\n`;
  let written = 0;
  for (const row of payments!.rows()) {
    if (written++ === ROWS) break;
    text += `${fields.map((field) => String(row[field] ?? '')).join(',')}\n`;
    if (text.length > 1 << 20) {
      fs.writeSync(out, text);
      text = '';
    }
  }
  fs.writeSync(out, text);
  fs.closeSync(out);
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.availableParallelism()} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function replaceSection(name: string, body: string): void {
  const file = path.join(packageRoot, 'docs', 'benchmarks.md');
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const section = `${start}\n${body}\n${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  fs.writeFileSync(file, pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`);
}

function benchIngest(dir: string): void {
  const csv = path.join(dir, 'payments.csv');
  writeCsv(csv);
  const sizeMiB = fs.statSync(csv).size / 2 ** 20;
  process.stderr.write(`ingestion: ${ROWS} rows, ${sizeMiB.toFixed(1)} MiB of CSV\n`);
  const lines: string[] = [];
  for (const workers of WORKER_COUNTS) {
    const runs: IngestFigures[] = [];
    for (let run = 0; run < 3; run++) {
      const dataDir = fs.mkdtempSync(path.join(dir, 'run-'));
      const output = execFileSync(process.execPath, [CHILD, dataDir, csv, String(workers)], { encoding: 'utf8' });
      runs.push(JSON.parse(output.trim().split('\n').pop()!) as IngestFigures);
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.stderr.write(`  workers=${workers} run ${run + 1}: ${Math.round(runs.at(-1)!.rows / runs.at(-1)!.seconds)} rows/s, peak RSS ${runs.at(-1)!.peakRssMiB.toFixed(0)} MiB\n`);
    }
    const rates = runs.map((figures) => figures.rows / figures.seconds);
    lines.push(`| ${workers} | ${Math.round(median(rates)).toLocaleString('en-US')} | ${rates.map((rate) => Math.round(rate).toLocaleString('en-US')).join(' / ')} | ${median(runs.map((r) => r.seconds)).toFixed(2)} | ${Math.max(...runs.map((r) => r.peakRssMiB)).toFixed(0)} |`);
  }
  replaceSection('ingest', [
    `### Ingestion: ${ROWS.toLocaleString('en-US')} rows of \`medical_insurance_payments\` as CSV (${sizeMiB.toFixed(1)} MiB)`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` on ${machine()}.`,
    'End to end: stream the file, parse, validate and normalise, seal (AES-256-GCM per record), blind-index,',
    'insert and commit as one durable transaction, into a fresh data directory. Three runs per worker count.',
    '',
    '| ingest workers | rows/s (median) | rows/s (each run) | seconds (median) | peak RSS, MiB (max) |',
    '|---|---|---|---|---|',
    ...lines,
  ].join('\n'));
}

interface AuthFigures {
  requests: number;
  seconds: number;
  cpuSeconds: number;
}

function benchAuth(dir: string): void {
  const lines: string[] = [];
  for (const algorithm of ['RS256', 'PS256']) {
    const runs: AuthFigures[] = [];
    for (let run = 0; run < 3; run++) {
      const dataDir = fs.mkdtempSync(path.join(dir, 'auth-'));
      const output = execFileSync('taskset', ['-c', '0', process.execPath, AUTH_CHILD, dataDir, algorithm, String(AUTH_REQUESTS)], { encoding: 'utf8' });
      runs.push(JSON.parse(output.trim().split('\n').pop()!) as AuthFigures);
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.stderr.write(`  ${algorithm} run ${run + 1}: ${Math.round(runs.at(-1)!.requests / runs.at(-1)!.seconds)} requests/s\n`);
    }
    const rates = runs.map((figures) => figures.requests / figures.seconds);
    const cpuMicros = runs.map((figures) => (figures.cpuSeconds / figures.requests) * 1e6);
    lines.push(`| ${algorithm} | ${Math.round(median(rates)).toLocaleString('en-US')} | ${rates.map((rate) => Math.round(rate).toLocaleString('en-US')).join(' / ')} | ${median(cpuMicros).toFixed(0)} |`);
  }
  replaceSection('auth', [
    `### Request authentication: ${AUTH_REQUESTS.toLocaleString('en-US')} signed requests, one core`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (\`BENCH_ONLY=auth\` for this one) on ${machine()}.`,
    'The gateway\'s authenticator over pre-signed requests with a 1 KiB body, 64 in flight, the child process pinned to one',
    'core with `taskset -c 0`: header decode, participant lookup, certificate (checked against the CA once, then cached),',
    'RSA-2048 signature verification through jose, claim checks, body SHA-256, and the replay cache committed durably',
    '(group commit). Not included: HTTP parsing and express (see the performance budget: about 140 µs a request). Three runs each.',
    '',
    '| algorithm | verified requests/s (median) | each run | CPU µs per request (median) |',
    '|---|---|---|---|',
    ...lines,
  ].join('\n'));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
try {
  if (ONLY === undefined || ONLY === 'ingest') benchIngest(dir);
  if (ONLY === undefined || ONLY === 'auth') benchAuth(dir);
  process.stderr.write('written to docs/benchmarks.md\n');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
