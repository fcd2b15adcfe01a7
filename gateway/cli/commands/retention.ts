/**
 * `gateway retention`: the operator's hand on the retention schedule (policies/retention.json, docs/retention.md) —
 * run the job now (the serving gateway runs it daily), or see first what it would do, and the schedule's state.
 * Works on the data directory, beside a serving gateway.
 */
import type { Command } from 'commander';
import { todayInShanghai } from '../../ingest/index.js';
import { retentionCutoff, type RetentionRun } from '../../retention/index.js';
import { guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';

function describeRun(run: RetentionRun): string {
  const verb = run.dryRun ? 'would purge' : 'purged';
  const batches = run.purged.map((batch) => `${verb} ${batch.dataset} batch ${batch.batchId} (as of ${batch.asOf}): ${batch.records} records`
    + (batch.auditIndex === undefined ? '' : `, audit entry #${batch.auditIndex}`));
  const keys = run.destroyedKeys.map((key) => `${run.dryRun ? 'would destroy' : 'destroyed'} data key ${key.keyId}`
    + (key.auditIndex === undefined ? '' : `, audit entry #${key.auditIndex}`));
  const lines = [...batches, ...keys];
  return lines.length === 0 ? `nothing past retention on ${run.today}` : lines.join('\n');
}

export function registerRetention(retention: Command, context: CommandContext): void {
  retention
    .command('run')
    .description('purge the records past their dataset\'s retention and destroy the data keys left without records (audited)')
    .option('--dry-run', 'say what would be purged and destroyed, changing nothing', false)
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: { dryRun: boolean; json: boolean }) => {
      const runtime = await context.open();
      try {
        const run = await runtime.retention.job('operator').run({ dryRun: options.dryRun });
        report(options, run, () => describeRun(run));
      } finally {
        await runtime.close();
      }
    }));
  retention
    .command('status')
    .description('the schedule in force, each dataset\'s cut-off today, the batches purged and the data keys destroyed')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: { json: boolean }) => {
      const runtime = await context.open();
      try {
        const { policy } = runtime.retention;
        const today = todayInShanghai();
        const purged = await runtime.store.countPurgedBatches();
        const datasets = [...policy.years].sort(([a], [b]) => a.localeCompare(b)).map(([dataset, years]) => ({
          dataset, years, cutoff: retentionCutoff(today, years), purgedBatches: purged[dataset] ?? 0,
        }));
        const status = {
          policyVersion: policy.version, policySha256: policy.sha256, evidenceYears: policy.evidenceYears, today, datasets,
          destroyedKeys: await runtime.store.destroyedDataKeys(),
        };
        report(options, status, () => [
          `retention policy v${policy.version} (sha256 ${policy.sha256}); consents and audit entries kept at least ${policy.evidenceYears} years`,
          ...datasets.map((entry) => `${entry.dataset.padEnd(30)} ${String(entry.years).padStart(3)} years  records as of before ${entry.cutoff} are purged  (${entry.purgedBatches} batches purged)`),
          status.destroyedKeys.length === 0 ? 'no data key destroyed' : `data keys destroyed: ${status.destroyedKeys.map((key) => `${key.keyId} (${key.destroyedAt})`).join(', ')}`,
        ].join('\n'));
      } finally {
        await runtime.close();
      }
    }));
}
