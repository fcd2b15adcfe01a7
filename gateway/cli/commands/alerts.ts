/**
 * `gateway alerts`: the operator's view of the monitoring outbox — list events by delivery state (dead-lettered
 * ones above all) and replay dead ones, which the running gateway then delivers again from the start of a new retry
 * horizon. Works on the database directly, so it can run beside a serving gateway.
 */
import type { Command } from 'commander';
import { GatewayError } from '../../errors/index.js';
import type { OutboxState } from '../../store/index.js';
import { guarded, positiveInteger, report } from '../output.js';
import type { CommandContext } from '../context.js';

const STATES: readonly OutboxState[] = ['pending', 'delivered', 'dead'];

export function registerAlerts(alerts: Command, context: CommandContext): void {
  alerts
    .command('list')
    .description('list outbox events (default: dead-lettered ones)')
    .option('--state <state>', `one of ${STATES.join(', ')}, or "all"`, 'dead')
    .option('--bank <id>', 'only this bank\'s events')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: { state: string; bank?: string; limit: string; json: boolean }) => {
      if (options.state !== 'all' && !(STATES as readonly string[]).includes(options.state)) {
        throw new GatewayError('invalid_argument', `--state must be one of ${STATES.join(', ')} or all`);
      }
      const limit = positiveInteger('--limit', options.limit);
      const runtime = await context.open();
      try {
        const rows = await runtime.monitoring.listEvents({ state: options.state === 'all' ? undefined : options.state as OutboxState, bankId: options.bank }, limit);
        report(options, rows, () => rows.map((row) =>
          `${row.event_id}  ${row.bank.padEnd(20)} ${row.type.padEnd(16)} ${row.state.padEnd(9)} attempts=${row.attempts}${row.last_error ? `  ${row.last_error}` : ''}`,
        ).join('\n') || 'no events');
      } finally {
        await runtime.close();
      }
    }));
  alerts
    .command('replay [eventIds...]')
    .description('put dead-lettered events back for delivery (these ids, or --all)')
    .option('--all', 'every dead-lettered event', false)
    .option('--json', 'print as JSON', false)
    .action(guarded(async (eventIds: string[], options: { all: boolean; json: boolean }) => {
      if (options.all === (eventIds.length > 0)) throw new GatewayError('invalid_argument', 'give event ids or --all, not both');
      const runtime = await context.open();
      try {
        const replayed = await runtime.monitoring.replay(options.all ? 'all_dead' : eventIds);
        report(options, { replayed }, () => `${replayed.length} event(s) back to pending`);
      } finally {
        await runtime.close();
      }
    }));
}
