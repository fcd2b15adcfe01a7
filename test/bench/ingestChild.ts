/**
 * Benchmark child: ingests one CSV file into a fresh data directory and prints one JSON line with rows, seconds and
 * peak RSS. A process of its own, so that its peak RSS is the ingestion's alone (worker threads included).
 */
import fs from 'node:fs';
import { openRuntime } from '../../gateway/runtime/index.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const [dir, file, workers] = process.argv.slice(2);
const config = testConfig(dir!, { GATEWAY_INGEST_WORKERS: workers! });
await prepareTestKeys(config);
const runtime = (await openRuntime(config));
const started = process.hrtime.bigint();
const receipt = await runtime.ingestor.ingest({
  dataset: 'medical_insurance_payments', format: 'csv', source: 'bench', asOf: '2026-11-01',
  input: fs.createReadStream(file!, { highWaterMark: 256 * 1024 }),
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await runtime.close();
process.stdout.write(`${JSON.stringify({ rows: receipt.rowCount, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
