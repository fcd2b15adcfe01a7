/** `gateway demo-data`: a deterministic synthetic population, through the ordinary ingestion path. */
import type { Command } from 'commander';
import { loadDemoPopulation } from '../../demo/load.js';
import { todayInShanghai } from '../../ingest/index.js';
import { demoEnterprise } from '../../demo/population.js';
import { GatewayError } from '../../errors/index.js';
import { formatCount, guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';
import { describeReceipt } from './ingest.js';

interface DemoDataOptions {
  enterprises: string;
  seed: string;
  asOf?: string;
  json: boolean;
}

function positiveInteger(name: string, text: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new GatewayError('invalid_argument', `${name} must be an integer from 1 to ${max}`);
  }
  return Number(text);
}

export function registerDemoData(demoData: Command, context: CommandContext): void {
  demoData
    .option('--enterprises <n>', 'how many enterprises', '200')
    .option('--seed <s>', 'random seed (same seed and as-of date: same data)', '1')
    .option('--as-of <date>', 'the population\'s "today" (YYYY-MM-DD); default today in Asia/Shanghai')
    .option('--json', 'print the receipts as JSON', false)
    .action(guarded(async (options: DemoDataOptions) => {
      const enterprises = positiveInteger('--enterprises', options.enterprises, 1_000_000);
      const seed = positiveInteger('--seed', options.seed, 2 ** 31 - 1);
      const runtime = await context.open();
      try {
        const asOf = options.asOf ?? todayInShanghai();
        const demo = { enterprises, seed, asOf };
        const receipts = await loadDemoPopulation(runtime.ingestor, demo, (receipt) => {
          if (!options.json) process.stderr.write(`${describeReceipt(receipt)}\n`);
        });
        const examples = [0, 1, 2].filter((index) => index < enterprises).map((index) => demoEnterprise(demo, index));
        report(options, { receipts, examples }, () => [
          `demo population: ${formatCount(enterprises)} enterprises, ${formatCount(receipts.reduce((sum, r) => sum + r.rowCount, 0))} rows in ${receipts.length} datasets`,
          ...examples.map((example) => `  e.g. ${example.uscc} ${example.name} [${example.profile.join(', ') || 'ordinary'}]`),
        ].join('\n'));
      } finally {
        await runtime.close();
      }
    }));
}
