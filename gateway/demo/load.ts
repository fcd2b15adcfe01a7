/** Loads the synthetic demo population through the ordinary ingestion path, one NDJSON batch per dataset. */
import type { IngestReceipt, Ingestor } from '../ingest/index.js';
import { demoPopulation } from './population.js';
import type { DemoOptions, DemoRow } from './population.js';

const FLUSH_BYTES = 64 * 1024;

async function* ndjson(first: DemoRow, rest: Iterator<DemoRow>): AsyncGenerator<Buffer> {
  let pending = '';
  for (let row: DemoRow | undefined = first; row; row = nextOf(rest)) {
    pending += `${JSON.stringify(row)}\n`;
    if (pending.length >= FLUSH_BYTES) {
      yield Buffer.from(pending, 'utf8');
      pending = '';
    }
  }
  if (pending.length > 0) yield Buffer.from(pending, 'utf8');
}

function nextOf(rows: Iterator<DemoRow>): DemoRow | undefined {
  const next = rows.next();
  return next.done ? undefined : next.value;
}

/** Ingests each dataset of the population; a dataset the population leaves empty (a tiny one) is skipped. */
export async function loadDemoPopulation(
  ingestor: Ingestor, options: DemoOptions, onBatch?: (receipt: IngestReceipt) => void,
): Promise<IngestReceipt[]> {
  const receipts: IngestReceipt[] = [];
  for (const { dataset, rows } of demoPopulation(options)) {
    const iterator = rows()[Symbol.iterator]();
    const first = nextOf(iterator);
    if (!first) continue;
    const receipt = await ingestor.ingest({ dataset, format: 'ndjson', input: ndjson(first, iterator), source: 'demo-data', asOf: options.asOf });
    receipts.push(receipt);
    onBatch?.(receipt);
  }
  return receipts;
}
