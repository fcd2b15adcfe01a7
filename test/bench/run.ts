/**
 * `npm run bench`: measures what the issues set targets for, and writes the figures into docs/benchmarks.md
 * (between the bench markers) with the command and the machine. Figures come only from this run.
 *
 * Ingestion: 1,000,000 rows of medical_insurance_payments as CSV (demo population rows), end to end — parse,
 * validate, seal, blind-index, commit — in a child process, for each worker count; rows/s and peak RSS.
 * Request authentication: signed requests verified per second on one core (authChild.ts, under taskset).
 * Audit log: durable group-committed appends per second, and proof latency at 1,000,000 entries (auditChild.ts).
 *
 * Verification over HTTP: signed request → consent → evaluation → durable audit → signed answer, with autocannon
 * against 100,000 demo enterprises, single-item and 100-item requests (verifyBench.ts).
 *
 * Monitoring: a batch changing 1 % of 100,000 watched subjects, until every alert is delivered (monitorChild.ts).
 *
 * CLI start-up: wall time of plain commands (`gateway --help`, `participants list`), from process start to exit.
 *
 * Memory soak: the server's RSS and heap at the start, middle and end of minutes of sustained verifications
 * (soakBench.ts).
 *
 * Storage engines: verification and audit appends on SQLite and on PostgreSQL side by side (engineBench.ts).
 *
 * BENCH_ONLY=ingest|auth|audit|verify|engines|monitor|cli|soak runs one of them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoPopulation } from '../../gateway/demo/population.js';
import { packageRoot } from '../../gateway/paths.js';
import { benchEngines } from './engineBench.js';
import { benchSoak } from './soakBench.js';
import { benchVerify } from './verifyBench.js';

const ROWS = Number(process.env['BENCH_INGEST_ROWS'] ?? 1_000_000);
const WORKER_COUNTS = [1, 2];
const CHILD = fileURLToPath(new URL('./ingestChild.js', import.meta.url));
const AUTH_CHILD = fileURLToPath(new URL('./authChild.js', import.meta.url));
const AUTH_REQUESTS = Number(process.env['BENCH_AUTH_REQUESTS'] ?? 10_000);
const AUDIT_CHILD = fileURLToPath(new URL('./auditChild.js', import.meta.url));
const AUDIT_APPENDS = Number(process.env['BENCH_AUDIT_APPENDS'] ?? 100_000);
const AUDIT_CALLERS = Number(process.env['BENCH_AUDIT_CALLERS'] ?? 256);
const AUDIT_ENTRIES = Number(process.env['BENCH_AUDIT_ENTRIES'] ?? 1_000_000);
const AUDIT_QUERIES = Number(process.env['BENCH_AUDIT_QUERIES'] ?? 10_000);
const ONLY = process.env['BENCH_ONLY'];
const CLI = path.join(packageRoot, 'dist', 'gateway', 'cli', 'main.js');
const CLI_RUNS = Number(process.env['BENCH_CLI_RUNS'] ?? 20);

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

interface AppendFigures {
  appends: number;
  callers: number;
  meanEntryBytes: number;
  seconds: number;
  cpuSeconds: number;
  commits: number;
  p50Micros: number;
  p99Micros: number;
  maxMicros: number;
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Process CPU time (user + system) per call. */
  cpuP50: number;
  cpuP99: number;
  /** Calls that threw: counted, not timed. */
  failures: number;
  firstError?: string;
}

interface ProofFigures {
  entries: number;
  queries: number;
  buildSeconds: number;
  buildCommits: number;
  /** Appends/s over each tenth of the build. */
  tenthRates: number[];
  databaseBytes: number;
  verified: number;
  warmUpFailures: number;
  warmUpFirstError?: string;
  entryRead: Latency;
  inclusionProof: Latency;
  inclusionWithRoot: Latency;
  inclusionServed: Latency;
  consistencyProof: Latency;
  consistencyServed: Latency;
}

/** Figures are cut, never rounded up: `down(1234.56)` is "1,234", `down(1.239, 2)` is "1.23". */
function down(value: number, digits = 0): string {
  const scale = 10 ** digits;
  return (Math.floor(value * scale) / scale).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The load average and, where the kernel reports it, the share of time tasks waited for a CPU (PSI, last 60 s). */
function loadAverage(): string {
  const load = os.loadavg().map((value) => down(value, 2)).join(' / ');
  let pressure = '';
  try {
    const some = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(fs.readFileSync('/proc/pressure/cpu', 'utf8'));
    if (some) pressure = `, CPU pressure ${some[1]} %`;
  } catch {
    // no PSI on this kernel
  }
  return `${load}${pressure}`;
}

function benchAudit(dir: string): void {
  const loadBefore = loadAverage();
  const runs: AppendFigures[] = [];
  for (let run = 0; run < 3; run++) {
    const dataDir = fs.mkdtempSync(path.join(dir, 'audit-'));
    const output = execFileSync(process.execPath, [AUDIT_CHILD, 'append', dataDir, String(AUDIT_APPENDS), String(AUDIT_CALLERS)], { encoding: 'utf8' });
    runs.push(JSON.parse(output.trim().split('\n').pop()!) as AppendFigures);
    fs.rmSync(dataDir, { recursive: true, force: true });
    const last = runs.at(-1)!;
    process.stderr.write(`  audit appends run ${run + 1}: ${down(last.appends / last.seconds)} appends/s, p99 ${down(last.p99Micros / 1e3, 1)} ms, mean group ${down(last.appends / last.commits, 1)}\n`);
  }
  const rates = runs.map((figures) => figures.appends / figures.seconds);
  const medianRun = runs[rates.indexOf(median(rates))]!;
  const appendRows = runs.map((figures, run) => `| ${run + 1}${figures === medianRun ? ' (median)' : ''} | ${down(figures.appends / figures.seconds)} | ${down(figures.p50Micros / 1e3, 1)} | ${down(figures.p99Micros / 1e3, 1)} | ${down(figures.maxMicros / 1e3, 1)} | ${down(figures.commits)} | ${down(figures.appends / figures.commits, 1)} | ${down((figures.cpuSeconds / figures.appends) * 1e6, 1)} |`);

  const proofDir = fs.mkdtempSync(path.join(dir, 'audit-proofs-'));
  const proofOutput = execFileSync(process.execPath, [AUDIT_CHILD, 'proofs', proofDir, String(AUDIT_ENTRIES), String(AUDIT_QUERIES)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  fs.rmSync(proofDir, { recursive: true, force: true });
  const proofs = JSON.parse(proofOutput.trim().split('\n').pop()!) as ProofFigures;
  const series = { entryRead: proofs.entryRead, inclusionProof: proofs.inclusionProof, inclusionWithRoot: proofs.inclusionWithRoot, inclusionServed: proofs.inclusionServed, consistencyProof: proofs.consistencyProof, consistencyServed: proofs.consistencyServed };
  process.stderr.write(`  audit proofs: built ${proofs.entries} entries in ${down(proofs.buildSeconds, 1)} s; inclusion p99 ${down(proofs.inclusionProof.p99, 1)} µs, consistency p99 ${down(proofs.consistencyProof.p99, 1)} µs; failed calls: ${[proofs.warmUpFailures, ...Object.values(series).map((latency) => latency.failures)].join(' / ')}\n`);
  const loadAfter = loadAverage();
  const latencyRow = (what: string, latency: Latency) =>
    `| ${what} | ${down(latency.p50, 1)} | ${down(latency.p99, 1)} | ${down(latency.max, 1)} | ${down(latency.mean, 1)} | ${down(latency.cpuP50)} / ${down(latency.cpuP99)} | ${down(latency.failures)} |`;
  const failed = Object.entries(series).filter(([, latency]) => latency.failures > 0);
  const failureLines = failed.length === 0 && proofs.warmUpFailures === 0
    ? ['No call failed.']
    : [
      '**Failures.** Some calls threw; they are counted in the last column and left out of the latencies:',
      ...(proofs.warmUpFailures > 0 ? [`- warm-up: ${down(proofs.warmUpFailures)} of 2,000 rounds, first error \`${proofs.warmUpFirstError}\``] : []),
      ...failed.map(([name, latency]) => `- ${name}: ${down(latency.failures)} of ${proofs.queries.toLocaleString('en-US')}, first error \`${latency.firstError}\``),
    ];

  const appendRate = median(rates);
  const appendsMet = appendRate >= 20_000;
  const proofLatencies = [proofs.inclusionProof, proofs.inclusionWithRoot, proofs.consistencyProof];
  const proofsFailed = proofLatencies.some((latency) => latency.failures > 0);
  const proofsMet = !proofsFailed && proofLatencies.every((latency) => latency.p99 < 1000);
  const proofsMaxMet = proofLatencies.every((latency) => latency.max < 1000);
  replaceSection('audit', [
    `### Audit log: durable appends with group commit, and proofs at ${AUDIT_ENTRIES.toLocaleString('en-US')} entries`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (\`BENCH_ONLY=audit npm run bench\` for this one) on ${machine()};`,
    `load average (1 / 5 / 15 min) ${loadBefore} at the start and ${loadAfter} at the end (CPU pressure: the share of the last`,
    'minute in which some task waited for a core, from /proc/pressure/cpu; other work was sharing the machine).',
    'Each part runs in a child process (`test/bench/auditChild.ts`), not pinned to a core, over a fresh `audit.sqlite`',
    '(WAL, `synchronous=FULL`) through `createAuditLog` and `openSqliteAuditStore`, as the gateway uses them. Figures are cut, never rounded up.',
    '',
    `**Durable appends.** ${AUDIT_APPENDS.toLocaleString('en-US')} appends of a verification-answer-like entry (\`audit.read\`, actor \`bank-NNNN\`,`,
    `a USCC subject, a consent id, 8 detail members including two 64-hex hashes: ${down(medianRun.meanEntryBytes)} bytes of canonical JSON on average), by`,
    `${AUDIT_CALLERS} callers in a closed loop: each awaits its append — resolved only after its group's durable commit — then issues`,
    'the next. Latency is from the call to the resolution. Commits are counted by wrapping the store\'s `append`',
    '(one transaction each); the mean group is appends / commits. CPU is the child\'s user + system time. Three runs.',
    '',
    '| run | appends/s | p50 latency, ms | p99, ms | max, ms | commits | mean group | CPU µs per append |',
    '|---|---|---|---|---|---|---|---|',
    ...appendRows,
    '',
    `**Proofs.** A ${proofs.entries.toLocaleString('en-US')}-entry log of the same entries, built through the log with 4,096 appends in flight`,
    `(groups of at most 1,024, the log's cap): ${down(proofs.buildSeconds, 1)} s (${down(proofs.entries / proofs.buildSeconds)} appends/s, ${down(proofs.buildCommits)} commits;`,
    `appends/s over each tenth of the build: ${proofs.tenthRates.map((rate) => down(rate)).join(', ')});`,
    `database ${down(proofs.databaseBytes / 2 ** 20, 1)} MiB (\`audit.sqlite\` + WAL). The store is then reopened; a warm-up (2,000 of each`,
    'operation on another log object) warms the JIT and the OS page cache. The series then run on FRESH log objects, whose hash cache',
    'starts empty: entry reads, inclusion proofs and consistency proofs, in that order, on one; the two "served" series on a second;',
    `proof + root on a third. ${proofs.queries.toLocaleString('en-US')} random questions each (seeded): tree sizes uniform in the upper half of the log, indexes below`,
    'them; for consistency, a first size uniform in 1 … second. Inclusion "served" is what `GET /v1/audit/proofs/inclusion` does',
    'besides HTTP: read the entry, hash it, the proof and the root; consistency "served" is both roots and the proof.',
    'Latencies are wall clock; the CPU column is the process\'s user + system time per call (`process.cpuUsage`), which',
    'leaves out time spent waiting for a core, so that on a loaded machine it shows what the call itself costs.',
    `${proofs.verified} of the proofs (every 50th of each kind) were checked with \`gateway/audit/verify.ts\` against roots the bench computes`,
    'independently from the leaf hashes (a compact Merkle range), and `rootAt` of the whole log against the same: all verified.',
    '',
    '| operation | p50, µs | p99, µs | max, µs | mean, µs | CPU µs p50 / p99 | failed calls |',
    '|---|---|---|---|---|---|---|',
    latencyRow('entry read (`entries({start: i, end: i + 1, limit: 1})`)', proofs.entryRead),
    latencyRow('inclusion proof', proofs.inclusionProof),
    latencyRow('inclusion proof + root', proofs.inclusionWithRoot),
    latencyRow('inclusion, served (entry + leaf hash + proof + root)', proofs.inclusionServed),
    latencyRow('consistency proof', proofs.consistencyProof),
    latencyRow('consistency, served (two roots + proof)', proofs.consistencyServed),
    '',
    ...failureLines,
    '',
    `**Targets.** At least 20,000 durable appends/s with group commit: **${appendsMet ? 'met' : 'missed'}** (median ${down(appendRate)} appends/s;`,
    `${down((medianRun.cpuSeconds / medianRun.appends) * 1e6, 1)} CPU µs per append in the median run, which is ${down(medianRun.appends / medianRun.cpuSeconds)} appends/s for each fully used core at that cost).`,
    `Inclusion and consistency proofs under 1 ms at ${proofs.entries.toLocaleString('en-US')} entries: p99 latency **${proofLatencies.every((latency) => latency.p99 < 1000) ? 'under 1 ms' : 'over 1 ms'}**`,
    `(inclusion ${down(proofs.inclusionProof.p99, 1)} µs, with the root ${down(proofs.inclusionWithRoot.p99, 1)} µs, consistency ${down(proofs.consistencyProof.p99, 1)} µs), maximum **${proofsMaxMet ? 'under' : 'over'} 1 ms**;`,
    proofsFailed
      ? `but ${down(proofLatencies.reduce((total, latency) => total + latency.failures, 0))} proof call(s) failed, so the target is **missed** until that is fixed.`
      : `no proof failed: **${proofsMet ? 'met' : 'missed'}** at p99.`,
  ].join('\n'));
}

const MONITOR_CHILD = fileURLToPath(new URL('./monitorChild.js', import.meta.url));
const MONITOR_SUBJECTS = Number(process.env['BENCH_MONITOR_SUBJECTS'] ?? 100_000);

interface MonitorFigures {
  subjects: number;
  rows: number;
  alerts: number;
  rejected: number;
  baselineSeconds: number;
  committedSeconds: number;
  seconds: number;
}

function benchMonitor(dir: string): void {
  const runs: MonitorFigures[] = [];
  for (let run = 0; run < 3; run++) {
    const dataDir = fs.mkdtempSync(path.join(dir, 'monitor-'));
    const output = execFileSync(process.execPath, [MONITOR_CHILD, dataDir, String(MONITOR_SUBJECTS)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    runs.push(JSON.parse(output.trim().split('\n').pop()!) as MonitorFigures);
    fs.rmSync(dataDir, { recursive: true, force: true });
    const last = runs.at(-1)!;
    process.stderr.write(`  monitor run ${run + 1}: committed ${last.committedSeconds.toFixed(2)} s, all ${last.alerts} alerts delivered ${last.seconds.toFixed(2)} s\n`);
  }
  const seconds = median(runs.map((r) => r.seconds));
  const rows = runs.map((r, i) =>
    `| ${i + 1} | ${r.baselineSeconds.toFixed(2)} | ${r.committedSeconds.toFixed(2)} | ${r.seconds.toFixed(2)} | ${r.alerts} | ${r.rejected} |`);
  replaceSection('monitor', [
    `### Monitoring: a batch changing 1 % of ${MONITOR_SUBJECTS.toLocaleString('en-US')} watched subjects`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (\`BENCH_ONLY=monitor npm run bench\` for this one) on ${machine()}.`,
    `${MONITOR_SUBJECTS.toLocaleString('en-US')} subjects in \`medical_insurance_arrears\`, each watched by one bank subscription (rule`,
    '`medical_arrears_appeared`); then one batch restating every subject, 1 % of them now owing. Timed from the start of that',
    'ingestion to the moment a receiver on loopback (same process) has verified the Standard Webhooks signature of every alert:',
    'change detection in the batch transaction, outbox, signing, audit entries and delivery by the worker. "Baseline" is the',
    'same-sized first ingestion with nobody subscribed, for comparison. Setup writes consents and subscriptions directly. Three runs.',
    '',
    '| run | baseline ingest, s | batch committed, s | all alerts delivered, s | alerts | rejected |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `**Target.** Every alert delivered within 5 s: **${seconds <= 5 ? 'met' : 'missed'}** (median ${seconds.toFixed(2)} s).`,
  ].join('\n'));
}

/** Milliseconds from spawning `node ...argv` to its exit, each run. */
function timeSpawn(argv: readonly string[], env: NodeJS.ProcessEnv): number[] {
  const times: number[] = [];
  for (let run = 0; run < CLI_RUNS; run++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`node ${argv.join(' ')} failed: ${result.stderr.toString()}`);
    times.push(ms);
  }
  return times;
}

function benchCli(dir: string): void {
  const home = path.join(dir, 'cli-home');
  const env = { PATH: process.env['PATH'] ?? '', GATEWAY_DATA_DIR: path.join(home, 'data'), GATEWAY_KEYS_DIR: path.join(home, 'keys'), LOG_LEVEL: 'silent' };
  execFileSync(process.execPath, [CLI, 'init'], { env, stdio: 'ignore' });
  for (const role of ['source', 'enterprise', 'bank', 'auditor']) {
    execFileSync(process.execPath, [CLI, 'participants', 'add', '--role', role, '--name', role, '--id', `bench-${role}`,
      ...(role === 'enterprise' ? ['--uscc', '91350100M000100Y43'] : role === 'source' ? ['--datasets', 'water_accounts'] : []), '--generate'], { env, stdio: 'ignore' });
  }
  const node = timeSpawn(['-e', '0'], env);
  const commands: [string, string[]][] = [['gateway --help', ['--help']], ['gateway participants list', ['participants', 'list']], ['gateway questions list', ['questions', 'list']]];
  const measured = commands.map(([name, args]) => ({ name, times: timeSpawn([CLI, ...args], env) }));
  const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.9) - 1]!;
  const rows = [{ name: '`node -e 0` (Node alone)', times: node }, ...measured.map((m) => ({ ...m, name: `\`${m.name}\`` }))]
    .map((m) => `| ${m.name} | ${median(m.times).toFixed(0)} | ${p90(m.times).toFixed(0)} |`);
  const slowest = Math.max(...measured.slice(0, 2).map((m) => median(m.times)));
  replaceSection('cli', [
    '### CLI start-up: plain commands',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (\`BENCH_ONLY=cli npm run bench\` for this one) on ${machine()}.`,
    `Wall time from spawning the command to its exit, ${CLI_RUNS} runs each, on a home with four participants. Only the command being`,
    'run is loaded (gateway/cli/main.ts), and commands that only read the store open nothing else: no keys, no schemas.',
    '',
    '| command | median, ms | p90, ms |',
    '|---|---|---|',
    ...rows,
    '',
    `**Target.** \`gateway --help\` and \`participants list\` under 500 ms: **${slowest < 500 ? 'met' : 'missed'}** (slower median ${slowest.toFixed(0)} ms).`,
  ].join('\n'));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
try {
  if (ONLY === undefined || ONLY === 'ingest') benchIngest(dir);
  if (ONLY === undefined || ONLY === 'auth') benchAuth(dir);
  if (ONLY === undefined || ONLY === 'audit') benchAudit(dir);
  if (ONLY === undefined || ONLY === 'verify') await benchVerify(dir, replaceSection, machine());
  if (ONLY === undefined || ONLY === 'engines') await benchEngines(dir, replaceSection, machine());
  if (ONLY === undefined || ONLY === 'monitor') benchMonitor(dir);
  if (ONLY === undefined || ONLY === 'cli') benchCli(dir);
  if (ONLY === undefined || ONLY === 'soak') await benchSoak(dir, replaceSection, machine());
  process.stderr.write('written to docs/benchmarks.md\n');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
