/**
 * The engine comparison (`BENCH_ONLY=engines npm run bench`): the same verification path over HTTP (verifyBench.ts,
 * both scenarios) and the same durable audit appends (auditChild.ts append) on SQLite and on PostgreSQL, side by side.
 * PostgreSQL is a server of its own started for the bench in a temporary directory (test/support/postgres.ts) with
 * fsync on, as a deployment runs it, on the same machine: its processes share the two cores with the gateway's.
 *
 * Environment: BENCH_ENGINE_ENTERPRISES (20000), BENCH_ENGINE_CONSENTS (5000), BENCH_ENGINE_APPENDS (50000); the
 * verification bench's own (BENCH_VERIFY_SECONDS, BENCH_VERIFY_RUNS, …) apply too.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgresServer } from '../support/postgres.js';
import { cut, itemRateOf, loadAverage, rateOf, verifyOnEngine } from './verifyBench.js';
import type { EngineVerification } from './verifyBench.js';

const AUDIT_CHILD = fileURLToPath(new URL('./auditChild.js', import.meta.url));
const ENTERPRISES = Number(process.env['BENCH_ENGINE_ENTERPRISES'] ?? 20_000);
const CONSENTS = Number(process.env['BENCH_ENGINE_CONSENTS'] ?? 5_000);
const APPENDS = Number(process.env['BENCH_ENGINE_APPENDS'] ?? 50_000);
const CALLERS = 256;

interface AppendFigures {
  readonly appends: number;
  readonly seconds: number;
  readonly commits: number;
  readonly p99Micros: number;
  readonly cpuSeconds: number;
}

function appends(dir: string, databaseUrl: string | undefined): AppendFigures {
  const dataDir = fs.mkdtempSync(path.join(dir, 'engine-audit-'));
  try {
    const output = execFileSync(process.execPath, [AUDIT_CHILD, 'append', dataDir, String(APPENDS), String(CALLERS)], {
      encoding: 'utf8', env: { ...process.env, ...(databaseUrl === undefined ? {} : { BENCH_DATABASE_URL: databaseUrl }) },
    });
    return JSON.parse(output.trim().split('\n').pop()!) as AppendFigures;
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

interface EngineFigures {
  readonly name: string;
  readonly verification: EngineVerification;
  readonly appends: AppendFigures;
}

export async function benchEngines(dir: string, writeSection: (name: string, body: string) => void, machine: string): Promise<void> {
  const started = Date.now();
  const loadBefore = loadAverage();
  const server = await startPostgresServer({ durable: true });
  if (typeof server === 'string') {
    writeSection('engines', `### Storage engines side by side\n\nNot measured: no PostgreSQL server could be started (${server}).`);
    return;
  }
  const engines: EngineFigures[] = [];
  try {
    const population = { enterprises: ENTERPRISES, consents: CONSENTS };
    for (const [name, url] of [['SQLite', undefined], ['PostgreSQL 15', await server.createDatabase()]] as const) {
      process.stderr.write(`engines: ${name}\n`);
      const verification = await verifyOnEngine(dir, url, population);
      const appended = appends(dir, url === undefined ? undefined : await server.createDatabase());
      process.stderr.write(`  ${name} audit appends: ${cut(appended.appends / appended.seconds)}/s, p99 ${cut(appended.p99Micros / 1e3, 1)} ms\n`);
      engines.push({ name, verification, appends: appended });
    }
  } finally {
    await server.stop();
  }
  const scenario = (engine: EngineFigures, name: string) => engine.verification.scenarios.find((found) => found.scenario.name === name)!;
  const rows = engines.map((engine) => {
    const baseline = scenario(engine, 'baseline');
    const single = scenario(engine, 'single');
    const screening = scenario(engine, 'screening');
    const share = (rate: number) => `${cut((rate / rateOf(baseline.median)) * 100, 1)} %`;
    return `| ${engine.name} | ${cut(rateOf(baseline.median))} | ${cut(rateOf(single.median))} (${share(rateOf(single.median))}) | ${cut(single.median.latency.p99)} | `
      + `${cut(itemRateOf(screening.median))} (${share(itemRateOf(screening.median))}) | ${cut(screening.median.latency.p99)} | `
      + `${single.durable && screening.durable && baseline.durable ? 'yes' : '**no**'} | ${cut(engine.appends.appends / engine.appends.seconds)} | ${cut(engine.appends.p99Micros / 1e3, 1)} | `
      + `${cut(engine.appends.appends / engine.appends.commits, 1)} | ${cut(engine.verification.prepared.loadSeconds, 1)} |`;
  });
  writeSection('engines', [
    '### Storage engines side by side: SQLite and PostgreSQL',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`BENCH_ONLY=engines npm run bench\` (${cut((Date.now() - started) / 1000)} s) on ${machine};`,
    `load average (1 / 5 / 15 min) ${loadBefore} at the start and ${loadAverage()} at the end (other work was sharing the machine).`,
    'Figures are cut, never rounded up. PostgreSQL 15 (Debian) runs on the same machine, started for the bench with its',
    'defaults and fsync on (`test/support/postgres.ts`, durable), so its server processes share the two cores with the',
    'gateway and the load generator; the SQLite engine runs inside the gateway process.',
    '',
    'The baseline is the same HTTP stack answering the same signed requests with no domain work (one durable append and',
    'a signed tiny answer, `verifyServer.ts baseline`); each scenario is also given as a share of it.',
    `Verification: the bench of the section above (\`verifyBench.ts\`), on ${ENTERPRISES.toLocaleString('en-US')} demo enterprises and`,
    `${CONSENTS.toLocaleString('en-US')} seeded consents per engine, median run of each scenario, 64 connections. Audit appends: ${APPENDS.toLocaleString('en-US')}`,
    `durable group-committed appends by ${CALLERS} concurrent callers (\`auditChild.ts append\`), one run.`,
    '',
    '| engine | baseline requests/s | single-item requests/s (÷ baseline) | p99, ms | screening answered items/s (÷ baseline) | p99, ms | every answer in the log | audit appends/s | p99, ms | entries per commit | population load, s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...engines.flatMap((engine) => engine.verification.scenarios.map((found) => `- ${engine.name}, ${found.scenario.title}: ${found.auditNote}.`)),
  ].join('\n'));
}
