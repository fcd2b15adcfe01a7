/** `gateway datasets` and `gateway batches`: what the gateway accepts, and what it has stored. */
import type { Command } from 'commander';
import { renderDataCatalog } from '../../datasets/catalogDoc.js';
import { loadDatasetRegistry } from '../../datasets/registry.js';
import { formatCount, guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';

export function registerDatasets(datasets: Command): void {
  datasets
    .command('list')
    .description('list the datasets, their natural keys and sources')
    .option('--json', 'print as JSON', false)
    .action(guarded((options: { json: boolean }) => {
      const registry = loadDatasetRegistry();
      const rows = registry.datasets.map((dataset) => ({
        id: dataset.id, catalog: dataset.catalog, title_zh: dataset.titleZh, title_en: dataset.titleEn,
        source: dataset.source, natural_key: dataset.naturalKey, fields: dataset.fields.map((field) => field.name),
      }));
      report(options, rows, () => rows.map((row) => `${row.catalog}  ${row.id.padEnd(30)} ${row.title_zh}  key: ${row.natural_key.join(' + ')}`).join('\n'));
    }));
  datasets
    .command('doc')
    .description('print docs/data-catalog.md, generated from the schemas')
    .action(guarded(() => {
      process.stdout.write(renderDataCatalog(loadDatasetRegistry()));
    }));
}

export function registerBatches(batches: Command, context: CommandContext): void {
  batches
    .command('list')
    .description('the most recent batches')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: { limit: string; json: boolean }) => {
      const runtime = await context.open();
      try {
        const limit = Math.min(Math.max(Number.parseInt(options.limit, 10) || 20, 1), 1000);
        const rows = await runtime.store.listBatches(limit);
        report(options, rows, () => rows.map((batch) =>
          `${batch.receivedAt}  ${batch.batchId}  ${formatCount(batch.rowCount)} rows  as of ${batch.asOf}  from ${batch.source}`).join('\n') || 'no batches');
      } finally {
        await runtime.close();
      }
    }));
}
