/**
 * The verification bench (`BENCH_ONLY=verify npm run bench`): the whole path over HTTP on loopback — signed request,
 * authentication with the replay cache, consent checks, record reads (decrypt), question evaluation, durable audit
 * appends, the gateway's signature on the answer — against a population of demo enterprises, with autocannon at 64
 * connections. Two scenarios: single-item requests and 100-item screening requests, each item asking three questions.
 *
 * One data directory is prepared per invocation (verifyServer.ts prepare) and reused by both scenarios. Per scenario,
 * one server process pinned to core 0 (`taskset -c 0`), and one load process per run (verifyChild.ts), pinned to
 * core 1 once its requests are signed: a single-item warm-up, then up to BENCH_VERIFY_RUNS measured runs, each sized
 * from the rate before it to last about BENCH_VERIFY_SECONDS. Then the server stops, and the audit entries it
 * appended are counted from audit.sqlite and compared with the answers the load generator received.
 *
 * Environment: BENCH_VERIFY_ENTERPRISES (100000), BENCH_VERIFY_CONSENTS (10000), BENCH_VERIFY_SECONDS (10),
 * BENCH_VERIFY_RUNS (3), BENCH_VERIFY_WARM_UP (500 requests), BENCH_VERIFY_REUSE (answer reuse seconds, 0),
 * BENCH_VERIFY_SCENARIOS (single,screening), BENCH_VERIFY_DATA_DIR (prepare into / reuse this directory),
 * BENCH_VERIFY_PIN (0: pin nothing), BENCH_VERIFY_PROFILE_DIR (run the servers under `node --cpu-prof`, profiles there).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BENCH_PURPOSE, BENCH_QUESTIONS } from './verifyShared.js';
import type { LoadFigures, PrepareFigures, ServeFigures } from './verifyShared.js';

const SERVER = fileURLToPath(new URL('./verifyServer.js', import.meta.url));
const LOAD = fileURLToPath(new URL('./verifyChild.js', import.meta.url));
const ENTERPRISES = Number(process.env['BENCH_VERIFY_ENTERPRISES'] ?? 100_000);
const CONSENTS = Number(process.env['BENCH_VERIFY_CONSENTS'] ?? 10_000);
const SECONDS = Number(process.env['BENCH_VERIFY_SECONDS'] ?? 10);
const RUNS = Number(process.env['BENCH_VERIFY_RUNS'] ?? 3);
/** GATEWAY_ANSWER_REUSE_SECONDS for the server: 0, so that every question is evaluated (and counted) afresh. */
const REUSE = process.env['BENCH_VERIFY_REUSE'] ?? '0';
/** 0: neither the server nor the load generator is pinned to a core (default 1: server core 0, load core 1). */
const PIN = process.env['BENCH_VERIFY_PIN'] !== '0';
/** Set to a directory to run the servers under `node --cpu-prof` (one profile per scenario); the section is not written. */
const PROFILE_DIR = process.env['BENCH_VERIFY_PROFILE_DIR'];
/** Scenarios to run (comma-separated names), default both. */
const SCENARIO_NAMES = (process.env['BENCH_VERIFY_SCENARIOS'] ?? 'single,screening').split(',');
const CONNECTIONS = 64;
/** Signing costs about a millisecond a request: a bound on the time spent preparing one run. */
const MAX_POOL = 60_000;

interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly items: number;
  /** The limit baseline: the same stack with no domain work (verifyServer.ts baseline), its rate counted in requests. */
  readonly baseline?: true;
}

const BASELINE: Scenario = { name: 'baseline', title: 'limit baseline: signed request, one durable append, a signed tiny answer, no domain work', items: 1, baseline: true };

const SCENARIOS: readonly Scenario[] = [
  { name: 'single', title: 'single-item requests', items: 1 },
  { name: 'screening', title: '100-item screening requests', items: 100 },
];

/** Single-item requests sent before a scenario's measured runs, on the same server process (JIT, page cache). */
const WARM_UP = Number(process.env['BENCH_VERIFY_WARM_UP'] ?? 500);

interface ScenarioFigures {
  readonly warmUp: LoadFigures;
  readonly runs: MeasuredRun[];
  /** Runs left out because the scenario had used up its time budget. */
  readonly skipped: number;
  readonly server: ServeFigures;
  /** Audit entries match what was received: one verification.answered per answered item, one .signed per 2xx. */
  readonly durable: boolean;
  readonly auditNote: string;
}

/** Figures are cut, never rounded up: `cut(1234.56)` is "1,234", `cut(1.239, 2)` is "1.23". */
function cut(value: number, digits = 0): string {
  const scale = 10 ** digits;
  return (Math.floor(value * scale) / scale).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The median run; of two middle ones, the lower. */
function middle<T>(runs: readonly T[], key: (run: T) => number): T {
  return [...runs].sort((a, b) => key(a) - key(b))[Math.floor((runs.length - 1) / 2)]!;
}

function lastJson<T>(output: string): T {
  return JSON.parse(output.trim().split('\n').pop()!) as T;
}

interface Server {
  readonly url: string;
  /** CPU seconds (user + system) the server process has used so far, from /proc (Linux). */
  cpuSeconds(): number;
  stop(): Promise<ServeFigures>;
}

/** utime + stime of a process, in seconds (USER_HZ is 100 on Linux). */
function processCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The environment of the server processes: BENCH_DATABASE_URL picks the engine (verifyServer.ts). */
type Engine = { readonly BENCH_DATABASE_URL?: string };

async function startServer(dataDir: string, scenario: Scenario, engine: Engine): Promise<Server> {
  const profile = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `verify-${scenario.name}.cpuprofile`] : [];
  const command = [process.execPath, ...profile, SERVER, ...(scenario.baseline ? ['baseline', dataDir] : ['serve', dataDir, REUSE])];
  const options = { stdio: ['ignore', 'pipe', 'inherit'] as ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...engine } };
  const child = PIN ? spawn('taskset', ['-c', '0', ...command], options) : spawn(command[0]!, command.slice(1), options);
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const first = await lines.next();
  if (first.done) throw new Error(`the verification server exited with ${String(await exited)} before listening`);
  const { url } = JSON.parse(first.value) as { url: string };
  return {
    url,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    async stop() {
      child.kill('SIGTERM');
      const last = await lines.next();
      const code = await exited;
      if (last.done || code !== 0) throw new Error(`the verification server exited with ${String(code)} without its figures`);
      return JSON.parse(last.value) as ServeFigures;
    },
  };
}

let nextOffset = 0;

function load(url: string, dataDir: string, items: number, amount: number): LoadFigures {
  const offset = nextOffset;
  nextOffset = (nextOffset + items * amount) % CONSENTS;
  const output = execFileSync(process.execPath, [LOAD, url, dataDir, String(items), String(amount), String(offset), PIN ? '1' : '-'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24,
  });
  return lastJson<LoadFigures>(output);
}

/** A measured run, with the CPU time the server used meanwhile (it is idle while the load process signs). */
interface MeasuredRun extends LoadFigures {
  readonly serverCpuSeconds: number;
}

function rateOf(figures: LoadFigures): number {
  return figures.requests / figures.seconds;
}

function itemRateOf(figures: LoadFigures): number {
  return figures.answeredItems / figures.seconds;
}

/**
 * One server process per scenario: a single-item warm-up, then up to RUNS measured runs, each sized from the rate
 * of the one before to last about SECONDS (at least one request per connection). A further run is left out when it
 * would take the scenario's measured time past 1.5 × RUNS × SECONDS: at a low rate, one request per connection
 * already takes long.
 */
async function runScenario(dataDir: string, scenario: Scenario, engine: Engine = {}): Promise<ScenarioFigures> {
  const server = await startServer(dataDir, scenario, engine);
  // The baseline answers no items: its runs are sized, and its rate counted, in requests.
  const perSecond = (figures: LoadFigures) => (scenario.baseline ? rateOf(figures) : itemRateOf(figures));
  const runs: MeasuredRun[] = [];
  let warmUp: LoadFigures;
  let skipped = 0;
  try {
    warmUp = load(server.url, dataDir, 1, WARM_UP);
    process.stderr.write(`  ${scenario.name} warm-up: ${cut(rateOf(warmUp))} single-item requests/s\n`);
    let itemsPerSecond = Math.max(1, perSecond(warmUp));
    let spent = 0;
    for (let index = 0; index < RUNS; index++) {
      const amount = Math.min(MAX_POOL, Math.max(CONNECTIONS, Math.floor((itemsPerSecond * SECONDS) / scenario.items)));
      if (index > 0 && spent + (amount * scenario.items) / itemsPerSecond > 1.5 * RUNS * SECONDS) {
        skipped = RUNS - index;
        break;
      }
      const cpuBefore = server.cpuSeconds();
      const figures = { ...load(server.url, dataDir, scenario.items, amount), serverCpuSeconds: 0 };
      figures.serverCpuSeconds = server.cpuSeconds() - cpuBefore;
      runs.push(figures);
      spent += figures.seconds;
      itemsPerSecond = Math.max(1, perSecond(figures));
      process.stderr.write(`  ${scenario.name} run ${index + 1}: ${cut(rateOf(figures))} requests/s, ${cut(itemRateOf(figures))} items/s, ` +
        `p50 ${figures.latency.p50} ms, p99 ${figures.latency.p99} ms, non-2xx ${figures.non2xx}, errors ${figures.errors}, ` +
        `server CPU ${cut(figures.serverCpuSeconds / figures.seconds * 100)} % of a core, ${figures.requests} requests signed in ${cut(figures.signSeconds, 1)} s\n`);
      if (figures.firstFailure) process.stderr.write(`    first failure: ${figures.firstFailure}\n`);
    }
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  }
  const serverFigures = await server.stop();
  const answeredEntries = serverFigures.appended['verification.answered'] ?? 0;
  const signedEntries = serverFigures.appended['verification.signed'] ?? 0;
  const refusedEntries = serverFigures.appended['verification.refused'] ?? 0;
  const all = [warmUp, ...runs];
  const answeredItems = all.reduce((sum, figures) => sum + figures.answeredItems, 0);
  const okResponses = all.reduce((sum, figures) => sum + figures.status2xx, 0);
  const baselineEntries = serverFigures.appended['audit.read'] ?? 0;
  const durable = scenario.baseline
    ? baselineEntries === okResponses
    : answeredEntries === answeredItems && signedEntries === okResponses && refusedEntries === 0;
  const auditNote = scenario.baseline
    ? `${cut(baselineEntries)} \`audit.read\` entries for ${cut(okResponses)} 2xx responses`
    : `${cut(answeredEntries)} \`verification.answered\` entries for ${cut(answeredItems)} answered items received, ` +
      `${cut(signedEntries)} \`verification.signed\` for ${cut(okResponses)} 2xx responses, ${cut(refusedEntries)} \`verification.refused\``;
  process.stderr.write(`  ${scenario.name}: server peak RSS ${cut(serverFigures.peakRssMiB)} MiB; ${auditNote}\n`);
  return { warmUp, runs, skipped, server: serverFigures, durable, auditNote };
}

function loadAverage(): string {
  return os.loadavg().map((value) => cut(value, 2)).join(' / ');
}

/**
 * BENCH_VERIFY_DATA_DIR: a directory to prepare into and keep (or, when it already holds a prepared population, to
 * reuse without preparing): for profiling and repeated runs. Without it, a fresh one under `dir`, removed afterwards.
 */
function prepare(dir: string, engine: Engine = {}, population = { enterprises: ENTERPRISES, consents: CONSENTS }): { dataDir: string; prepared: PrepareFigures | undefined; keep: boolean } {
  const kept = engine.BENCH_DATABASE_URL === undefined ? process.env['BENCH_VERIFY_DATA_DIR'] : undefined;
  if (kept && fs.existsSync(path.join(kept, 'subjects.json'))) {
    process.stderr.write(`verification: reusing the population prepared in ${kept}\n`);
    return { dataDir: kept, prepared: undefined, keep: true };
  }
  const dataDir = kept ?? fs.mkdtempSync(path.join(dir, 'verify-'));
  fs.mkdirSync(dataDir, { recursive: true });
  process.stderr.write(`verification: preparing ${population.enterprises} demo enterprises and ${population.consents} consents\n`);
  const prepared = lastJson<PrepareFigures>(execFileSync(process.execPath, [SERVER, 'prepare', dataDir, String(population.enterprises), String(population.consents)], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...engine },
  }));
  process.stderr.write(`  prepared in ${cut(prepared.seconds, 1)} s: ${prepared.rows} rows in ${cut(prepared.loadSeconds, 1)} s, ${prepared.consents} consents in ${cut(prepared.consentSeconds, 1)} s\n`);
  return { dataDir, prepared, keep: kept !== undefined };
}

export async function benchVerify(dir: string, writeSection: (name: string, body: string) => void, machine: string): Promise<void> {
  const loadBefore = loadAverage();
  const started = Date.now();
  const { dataDir, prepared, keep } = prepare(dir);
  const sections: string[] = [];
  const verdicts: string[] = [];
  /** The baseline's median requests/s, which each scenario's rate is divided by. */
  let baselineRate: number | undefined;
  try {
    for (const scenario of [BASELINE, ...SCENARIOS.filter((candidate) => SCENARIO_NAMES.includes(candidate.name))]) {
      const figures = await runScenario(dataDir, scenario);
      const medianRun = middle(figures.runs, scenario.baseline ? rateOf : itemRateOf);
      const rows = figures.runs.map((l, index) =>
        `| ${index + 1}${l === medianRun && figures.runs.length > 1 ? ' (median)' : ''} | ${cut(l.requests)} in ${cut(l.seconds, 2)} s | ${cut(rateOf(l))} | ${cut(itemRateOf(l))} | ` +
        `${cut(l.latency.p50)} | ${cut(l.latency.p99)} | ${cut(l.latency.max)} | ${cut(l.non2xx)} / ${cut(l.errors + l.timeouts)} | ${cut(l.refusedItems)} | ` +
        `${cut((l.serverCpuSeconds / l.seconds) * 100)} | ${cut((l.serverCpuSeconds / Math.max(1, l.answeredItems)) * 1e6)} |`);
      const failures = figures.runs.filter((l) => l.firstFailure).map((l) => `- run ${figures.runs.indexOf(l) + 1}: first failure \`${l.firstFailure}\``);
      const runCount = figures.runs.length === RUNS
        ? `${RUNS} measured run${RUNS === 1 ? '' : 's'}`
        : `${figures.runs.length} measured run${figures.runs.length === 1 ? '' : 's'}, not ${RUNS}: at this rate one request per connection takes ` +
          `${cut(figures.runs[0]!.seconds, 1)} s, and the further run${figures.skipped === 1 ? ' was' : 's were'} left out to keep the bench within its time budget`;
      sections.push([
        `**${scenario.title[0]!.toUpperCase()}${scenario.title.slice(1)}** (${scenario.items} item${scenario.items === 1 ? '' : 's'} × ${BENCH_QUESTIONS.length} questions per request;`,
        `warm-up ${cut(figures.warmUp.requests)} single-item requests at ${cut(rateOf(figures.warmUp))}/s; ${runCount}):`,
        '',
        '| run | requests | requests/s | answered items/s | p50, ms | p99, ms | max, ms | non-2xx / errors | refused items | server CPU, % of its core | server CPU µs per item |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
        ...rows,
        ...(failures.length > 0 ? ['', ...failures] : []),
        '',
        `Server peak RSS ${cut(figures.server.peakRssMiB)} MiB (warm-up and runs, one process). Audit log after the server stopped: ${figures.auditNote}:`,
        `${figures.durable ? 'every answer received is in the log' : '**the counts do not match**'}.`,
      ].join('\n'));
      const l = medianRun;
      const ofBaseline = (rate: number) => (baselineRate === undefined ? '' : `; ${cut((rate / baselineRate) * 100, 1)} % of the baseline's ${cut(baselineRate)} requests/s`);
      if (scenario.baseline) {
        baselineRate = rateOf(l);
        verdicts.push(`Limit baseline (the same stack, no domain work): ${cut(rateOf(l))} requests/s, p99 ${cut(l.latency.p99)} ms; every answer's entry durable first: **${figures.durable ? 'yes' : 'no'}**.`);
        continue;
      }
      if (scenario.items === 1) {
        const met = rateOf(l) >= 5000 && l.latency.p99 <= 20 && l.non2xx === 0;
        verdicts.push(`At least 5,000 single-item verifications/s with p99 at most 20 ms: **${met ? 'met' : 'missed'}** (${figures.runs.length > 1 ? 'median run' : 'the run'}: ${cut(rateOf(l))} requests/s, p99 ${cut(l.latency.p99)} ms${ofBaseline(rateOf(l))}).`);
      } else {
        const met = itemRateOf(l) >= 20_000 && l.non2xx === 0;
        verdicts.push(`At least 20,000 answered items/s in ${scenario.items}-item requests: **${met ? 'met' : 'missed'}** (${figures.runs.length > 1 ? 'median run' : 'the run'}: ${cut(itemRateOf(l))} items/s, p99 ${cut(l.latency.p99)} ms${ofBaseline(itemRateOf(l))}, counting items against requests).`);
      }
      verdicts.push(`Every ${scenario.name === 'single' ? 'single-item' : 'screening'} answer durable in the audit log before it was sent: **${figures.durable ? 'yes' : 'no'}** (counts above; the gateway appends each item's entry and the answer's \`verification.signed\` entry, each awaited until committed, before it responds).`);
    }
  } finally {
    if (!keep) fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const loadAfter = loadAverage();
  const setup = prepared
    ? [
      `**Setup** (once per invocation, \`test/bench/verifyServer.ts prepare\`, ${cut(prepared.seconds, 1)} s in all): ${prepared.enterprises.toLocaleString('en-US')} demo enterprises`,
      `loaded through the ordinary ingestion path (\`loadDemoPopulation\`, NDJSON, 2 ingest workers): ${cut(prepared.rows)} rows in ${cut(prepared.loadSeconds, 1)} s`,
      `(${cut(prepared.rows / prepared.loadSeconds)} rows/s); one bank participant; ${cut(prepared.consents)} consents seeded in ${cut(prepared.consentSeconds, 1)} s.`,
      `Data directory after setup: ${cut(prepared.dataBytes / 2 ** 20)} MiB.`,
    ]
    : [`**Setup**: a population prepared earlier was reused (\`BENCH_VERIFY_DATA_DIR\`); its setup time is not part of this run.`];
  // A profiled run's figures are distorted by the profiler: shown, not written to docs/benchmarks.md.
  const write = PROFILE_DIR ? (_name: string, body: string) => process.stderr.write(`${body}\n(profiled: not written)\n`) : writeSection;
  write('verify', [
    `### Verification over HTTP: ${ENTERPRISES.toLocaleString('en-US')} demo enterprises, autocannon at ${CONNECTIONS} connections`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`BENCH_ONLY=verify npm run bench\` (${cut((Date.now() - started) / 1000)} s) on ${machine};`,
    `load average (1 / 5 / 15 min) ${loadBefore} at the start and ${loadAfter} at the end (other work was sharing the machine).`,
    'Figures are cut, never rounded up.',
    '',
    ...setup,
    `The consents: enterprises spread evenly over the population, addressed to the bank, purpose ${BENCH_PURPOSE}, questions`,
    `${BENCH_QUESTIONS.map((question) => `\`${question}\``).join(', ')} (four datasets: about 26 records per enterprise, 24 of them monthly payment`,
    'rows), 30 days, no use limit. They are seeded, not granted over HTTP: each is a `consent.granted` audit entry appended',
    'through the log and a row added with `store.addConsent`, as a grant writes them, but with no enterprise participant',
    'behind it (enrolling one costs about 100 ms for its key and certificate). Verification reads only the consent row, never',
    'its artefact, so the measured path is the same.',
    '',
    `**Runs.** Per scenario, one server process (\`verifyServer.ts serve\`: \`openRuntime\` + \`startServer\` on 127.0.0.1, as \`gateway serve\`;`,
    `bank and consent rate limits raised out of the way; \`GATEWAY_ANSWER_REUSE_SECONDS=${REUSE}\`${REUSE === '0' ? ', so that every question is evaluated, counted against its consent and audited afresh' : ''})`,
    `${PIN ? 'pinned to core 0 with `taskset -c 0`' : 'not pinned'}, and one load process per run (\`verifyChild.ts\`): a single-item warm-up, then the`,
    'measured runs. Each load process first signs its whole pool of requests (RS256 as the bank, a fresh jti each, since the',
    `replay cache refuses repeats; about 1 ms of CPU a request) on both cores while the server is idle, then${PIN ? ' pins itself to core 1 and' : ''}`,
    `lets autocannon send the pool over ${CONNECTIONS} connections until every request is answered. A run's size is the`,
    `previous rate × ${SECONDS} s (at least one request per connection). Latency is autocannon's (1 ms resolution, request written to`,
    'response read). Items are counted as answered from the response bodies. The audit counts are read from audit.sqlite',
    'after the server stopped, over its warm-up and runs; peak RSS is the server process\'s maxRSS over the same. Server CPU',
    'is the server process\'s user + system time during each measured run (from /proc; it is idle while the load process',
    'signs), as a share of the wall time and per answered item. Well under 100 % means the server was waiting: on I/O, or for',
    'its core, when other processes were using it.',
    '',
    ...sections.flatMap((section) => [section, '']),
    '**Targets.**',
    ...verdicts.map((verdict) => `- ${verdict}`),
  ].join('\n'));
}

/** One engine's verification figures, for the engine comparison (engineBench.ts): the median run of each scenario. */
export interface EngineVerification {
  readonly prepared: PrepareFigures;
  readonly scenarios: readonly { readonly scenario: Scenario; readonly median: MeasuredRun; readonly runs: number; readonly durable: boolean; readonly auditNote: string }[];
}

/** Both scenarios on a population of the given size, on SQLite (no URL) or the PostgreSQL database at `databaseUrl`. */
export async function verifyOnEngine(dir: string, databaseUrl: string | undefined, population: { enterprises: number; consents: number }): Promise<EngineVerification> {
  const engine: Engine = databaseUrl === undefined ? {} : { BENCH_DATABASE_URL: databaseUrl };
  const { dataDir, prepared } = prepare(dir, engine, population);
  try {
    const scenarios = [];
    for (const scenario of [BASELINE, ...SCENARIOS]) {
      const figures = await runScenario(dataDir, scenario, engine);
      scenarios.push({ scenario, median: middle(figures.runs, scenario.baseline ? rateOf : itemRateOf), runs: figures.runs.length, durable: figures.durable, auditNote: figures.auditNote });
    }
    return { prepared: prepared as PrepareFigures, scenarios };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export { cut, rateOf, itemRateOf, loadAverage };
