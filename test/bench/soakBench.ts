/**
 * The memory soak (`BENCH_ONLY=soak npm run bench`): does the server's memory stay flat under sustained load? A
 * small population (BENCH_SOAK_ENTERPRISES, 200, each with a consent) is asked single-item verifications for
 * BENCH_SOAK_SECONDS (180) by one load process (soakChild.ts, requests signed as they are sent, BENCH_SOAK_IN_FLIGHT
 * 16 in flight), with answer reuse at its default, as in production. The server (verifyServer.ts serve) samples its
 * own memory every BENCH_SOAK_SAMPLE_SECONDS (5); the section reports RSS and the JS heap at the start, middle and end
 * of the load, and the growth per request between the middle and the end, where a leak shows and warm-up does not.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./verifyServer.js', import.meta.url));
const LOAD = fileURLToPath(new URL('./soakChild.js', import.meta.url));
const ENTERPRISES = Number(process.env['BENCH_SOAK_ENTERPRISES'] ?? 200);
const SECONDS = Number(process.env['BENCH_SOAK_SECONDS'] ?? 180);
const IN_FLIGHT = Number(process.env['BENCH_SOAK_IN_FLIGHT'] ?? 16);
const SAMPLE_SECONDS = Number(process.env['BENCH_SOAK_SAMPLE_SECONDS'] ?? 5);
/** GATEWAY_ANSWER_REUSE_SECONDS as deployed by default: repeated questions are answered from the reuse window. */
const REUSE_SECONDS = '86400';
const MIB = 2 ** 20;

interface Sample {
  readonly at: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

interface LoadResult {
  readonly ok: number;
  readonly failed: number;
  readonly firstFailure?: string;
}

/** The sample taken last at or before `at`. */
function sampleAt(samples: readonly Sample[], at: number): Sample {
  return samples.filter((sample) => sample.at <= at).at(-1) ?? samples[0]!;
}

export async function benchSoak(dir: string, replaceSection: (name: string, body: string) => void, machine: string): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(dir, 'soak-'));
  process.stderr.write(`  soak: preparing ${ENTERPRISES} enterprises and consents\n`);
  execFileSync(process.execPath, [SERVER, 'prepare', dataDir, String(ENTERPRISES), String(ENTERPRISES)], { stdio: ['ignore', 'ignore', 'inherit'] });

  const server = spawn(process.execPath, [SERVER, 'serve', dataDir, REUSE_SECONDS], {
    env: { ...process.env, BENCH_MEMORY_SAMPLE_MS: String(SAMPLE_SECONDS * 1000) }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const samples: Sample[] = [];
  let url: string | undefined;
  let listening: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { listening = resolve; });
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  readline.createInterface({ input: server.stdout }).on('line', (line) => {
    const parsed = JSON.parse(line) as { url?: string; memory?: Sample };
    if (parsed.url !== undefined) {
      url = parsed.url;
      listening();
    }
    if (parsed.memory !== undefined) samples.push(parsed.memory);
  });
  await ready;

  const loadStarted = Date.now();
  process.stderr.write(`  soak: ${SECONDS} s of single-item verifications, ${IN_FLIGHT} in flight\n`);
  const output = execFileSync(process.execPath, [LOAD, url!, dataDir, String(SECONDS), String(IN_FLIGHT)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const loadEnded = Date.now();
  const load = JSON.parse(output.trim().split('\n').pop()!) as LoadResult;
  server.kill('SIGTERM');
  await closed;
  fs.rmSync(dataDir, { recursive: true, force: true });

  const start = sampleAt(samples, loadStarted);
  const middle = sampleAt(samples, (loadStarted + loadEnded) / 2);
  const end = sampleAt(samples, loadEnded);
  const requestsPerSecond = load.ok / ((loadEnded - loadStarted) / 1000);
  // Requests between the middle and the end samples, at the run's average rate.
  const secondHalfRequests = requestsPerSecond * ((end.at - middle.at) / 1000);
  const perRequest = (from: number, to: number) => (secondHalfRequests > 0 ? ((to - from) / secondHalfRequests) : 0);
  const row = (name: string, sample: Sample) =>
    `| ${name} | ${Math.round((sample.at - loadStarted) / 1000)} | ${(sample.rss / MIB).toFixed(1)} | ${(sample.heapUsed / MIB).toFixed(1)} | ${(sample.arrayBuffers / MIB).toFixed(1)} |`;
  const rssGrowth = perRequest(middle.rss, end.rss);
  const heapGrowth = perRequest(middle.heapUsed + middle.arrayBuffers, end.heapUsed + end.arrayBuffers);
  replaceSection('soak', [
    `### Memory under sustained load (soak)`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (\`BENCH_ONLY=soak npm run bench\` for this one) on ${machine}.`,
    `${ENTERPRISES} demo enterprises, each with a consent; for ${SECONDS} s one load process sends single-item verifications (three`,
    `questions each) about them in turn, ${IN_FLIGHT} in flight, each signed as it is sent; answer reuse at its default (86,400 s), as`,
    'deployed. The server samples `process.memoryUsage()` every few seconds; the load is not pinned, so the rate reflects the machine.',
    `${load.ok.toLocaleString('en-US')} requests answered (${requestsPerSecond.toFixed(0)}/s), ${load.failed} failed${load.firstFailure ? ` (first: ${load.firstFailure})` : ''}.`,
    '',
    '| when | s into the load | RSS, MiB | JS heap used, MiB | array buffers, MiB |',
    '|---|---|---|---|---|',
    row('start', start),
    row('middle', middle),
    row('end', end),
    '',
    `Between the middle and the end: RSS ${rssGrowth >= 0 ? '+' : ''}${(rssGrowth / 1024).toFixed(2)} KiB per request, JS heap and buffers`,
    `${heapGrowth >= 0 ? '+' : ''}${(heapGrowth / 1024).toFixed(2)} KiB per request.`,
  ].join('\n'));
}
