/**
 * Child process for the crash test: ingests `rows` generated arrears rows into the data directory given in argv and
 * prints "progress N" as chunks are written and "committed" once the batch is durable. The test kills it with
 * SIGKILL at a moment of its choosing.
 */
import { openRuntime } from '../../gateway/runtime/index.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const [dir, rowsArgument] = process.argv.slice(2);
const rows = Number(rowsArgument);
const config = testConfig(dir!, { GATEWAY_INGEST_WORKERS: '1' });
await prepareTestKeys(config);
const runtime = (await openRuntime(config));

async function* input(): AsyncGenerator<Buffer> {
  yield Buffer.from('enterprise_name,uscc,arrears_period,arrears_amount\n');
  for (let i = 0; i < rows; i += 1000) {
    let text = '';
    for (let j = i; j < Math.min(i + 1000, rows); j++) text += `济南明德机械有限公司,91350100M000100Y43,${1000 + Math.floor(j / 12)}-${String((j % 12) + 1).padStart(2, '0')},${j}.00\n`;
    yield Buffer.from(text);
  }
}

await runtime.ingestor.ingest({
  dataset: 'medical_insurance_arrears', format: 'csv', source: 'crash-test', asOf: '2026-11-01', input: input(),
  onProgress: (done) => process.stdout.write(`progress ${done}\n`),
});
process.stdout.write('committed\n');
await runtime.close();
