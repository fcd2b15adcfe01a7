/** `gateway ingest`: one file (or stdin) into one dataset, atomically. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { contentHasher } from '../../crypto/index.js';
import { GatewayError } from '../../errors/index.js';
import { inputFormats } from '../../ingest/index.js';
import type { IngestReceipt, InputFormat } from '../../ingest/index.js';
import { formatCount, guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';

const FORMAT_BY_EXTENSION: Record<string, InputFormat> = { '.csv': 'csv', '.ndjson': 'ndjson', '.jsonl': 'ndjson', '.json': 'json' };

/** The format given, or the one the file's extension names. */
export function formatOf(file: string, given: string | undefined): InputFormat {
  const format = given ?? FORMAT_BY_EXTENSION[path.extname(file).toLowerCase()];
  if (format === undefined) throw new GatewayError('unsupported_format', `cannot tell the format of ${file}: pass --format ${inputFormats.join('|')}`);
  if (!(inputFormats as readonly string[]).includes(format)) {
    throw new GatewayError('unsupported_format', `format must be one of ${inputFormats.join(', ')}`);
  }
  return format as InputFormat;
}

async function hashFile(file: string): Promise<string> {
  const hasher = contentHasher();
  for await (const bytes of fs.createReadStream(file)) hasher.update(bytes as Buffer);
  return hasher.digest('hex');
}

export function describeReceipt(receipt: IngestReceipt): string {
  const verb = receipt.outcome === 'stored' ? 'stored' : 'already stored (nothing written)';
  return `${verb}: batch ${receipt.batchId}, ${formatCount(receipt.rowCount)} rows of ${receipt.dataset} as of ${receipt.asOf} from ${receipt.source} (sha256 ${receipt.contentHash})`;
}

interface IngestOptions {
  dataset: string;
  format?: string;
  source: string;
  asOf?: string;
  batchId?: string;
  json: boolean;
}

export function registerIngest(ingest: Command, context: CommandContext): void {
  ingest
    .argument('<file>', 'the input file, or - for standard input')
    .requiredOption('--dataset <id>', 'dataset id (see `gateway datasets list`)')
    .option('--format <format>', `input format (${inputFormats.join(', ')}); default from the file extension`)
    .option('--source <name>', 'who supplied the batch, recorded as its provenance', 'operator')
    .option('--as-of <date>', 'the date the records describe (YYYY-MM-DD); default today in Asia/Shanghai')
    .option('--batch-id <id>', 'a batch id of your own; re-ingesting the same id and content is a no-op')
    .option('--json', 'print the receipt as JSON', false)
    .action(guarded(async (file: string, options: IngestOptions) => {
      const stdin = file === '-';
      const format = formatOf(file, options.format ?? (stdin ? 'ndjson' : undefined));
      if (!stdin && !fs.existsSync(file)) throw new GatewayError('file_not_found', `no such file: ${file}`);
      const runtime = await context.open();
      try {
        const progress = process.stderr.isTTY && !options.json;
        const started = Date.now();
        const receipt = await runtime.ingestor.ingest({
          dataset: options.dataset,
          format,
          input: stdin ? process.stdin : fs.createReadStream(file, { highWaterMark: 256 * 1024 }),
          source: options.source,
          asOf: options.asOf,
          batchId: options.batchId,
          expectedContentHash: stdin ? undefined : await hashFile(file),
          onProgress: progress
            ? (rows) => {
                const seconds = (Date.now() - started) / 1000;
                process.stderr.write(`\r  ${formatCount(rows)} rows read (${formatCount(Math.round(rows / Math.max(seconds, 0.001)))} rows/s)`);
              }
            : undefined,
        });
        if (progress) process.stderr.write('\n');
        report(options, receipt, () => describeReceipt(receipt));
      } finally {
        await runtime.close();
      }
    }));
}
