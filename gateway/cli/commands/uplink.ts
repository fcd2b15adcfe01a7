/**
 * `gateway uplink`: the operator's view of the national uplink's outbox (docs/uplink.md) — list manifests by state
 * (dead-lettered ones above all, pending ones, acknowledged ones with when the platform received them) and replay
 * dead ones, which the running gateway then sends again from the start of a new retry horizon. Works on the database
 * directly, so it can run beside a serving gateway.
 */
import type { Command } from 'commander';
import { GatewayError } from '../../errors/index.js';
import type { UplinkState } from '../../store/index.js';
import { guarded, positiveInteger, report } from '../output.js';
import type { CommandContext } from '../context.js';

const STATES: readonly UplinkState[] = ['pending', 'acknowledged', 'dead'];

export function registerUplink(uplink: Command, context: CommandContext): void {
  uplink
    .command('list')
    .description('list uplink manifests (default: dead-lettered ones)')
    .option('--state <state>', `one of ${STATES.join(', ')}, or "all"`, 'dead')
    .option('--batch <id>', 'only the manifest of this batch, whatever its state')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: { state: string; batch?: string; limit: string; json: boolean }) => {
      if (options.state !== 'all' && !(STATES as readonly string[]).includes(options.state)) {
        throw new GatewayError('invalid_argument', `--state must be one of ${STATES.join(', ')} or all`);
      }
      const limit = positiveInteger('--limit', options.limit);
      const runtime = await context.open();
      try {
        const rows = options.batch === undefined
          ? await runtime.uplink.list({ state: options.state === 'all' ? undefined : options.state as UplinkState }, limit)
          : [await runtime.uplink.ofBatch(options.batch)].flatMap((row) => (row ? [row] : []));
        report(options, rows, () => rows.map((row) => {
          const waiting = row.batch_audit_index === null ? '  (waiting for the batch\'s audit entry)' : '';
          const detail = row.state === 'acknowledged' ? `  received ${row.received_at}` : row.last_error ? `  ${row.last_error}` : '';
          return `${row.manifest_id}  ${row.batch_id.padEnd(40)} ${row.state.padEnd(12)} attempts=${row.attempts}${detail}${waiting}`;
        }).join('\n') || 'no manifests');
      } finally {
        await runtime.close();
      }
    }));
  uplink
    .command('replay [manifestIds...]')
    .description('put dead-lettered manifests back for delivery (these ids, or --all)')
    .option('--all', 'every dead-lettered manifest', false)
    .option('--json', 'print as JSON', false)
    .action(guarded(async (manifestIds: string[], options: { all: boolean; json: boolean }) => {
      if (options.all === (manifestIds.length > 0)) throw new GatewayError('invalid_argument', 'give manifest ids or --all, not both');
      const runtime = await context.open();
      try {
        const replayed = await runtime.uplink.replay(options.all ? 'all_dead' : manifestIds);
        report(options, { replayed }, () => `${replayed.length} manifest(s) back to pending`);
      } finally {
        await runtime.close();
      }
    }));
}
