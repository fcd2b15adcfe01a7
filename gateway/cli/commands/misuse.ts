/**
 * `gateway misuse`: the operator's view of the misuse rules (policies/misuse.json) — scan the audit log's last window
 * now (the serving gateway also scans every GATEWAY_MISUSE_SCAN_SECONDS) and list the flags raised. Works on the data
 * directory, beside a serving gateway.
 */
import type { Command } from 'commander';
import { GatewayError } from '../../errors/index.js';
import type { MisuseFlag } from '../../misuse/index.js';
import { guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';

function line(flag: MisuseFlag): string {
  const evidence = Object.entries(flag.evidence).map(([name, value]) => `${name}=${value}`).join(' ');
  return `#${flag.auditIndex}  ${flag.windowTo}  ${flag.rule.padEnd(24)} ${flag.severity.padEnd(6)} ${flag.bank.padEnd(20)} ${evidence}${flag.suspended ? '  (bank suspended)' : ''}`;
}

export function registerMisuse(misuse: Command, context: CommandContext): void {
  misuse
    .command('scan')
    .description('run the misuse rules over the audit log\'s last window now; prints the flags raised')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: { json: boolean }) => {
      const runtime = await context.open();
      try {
        const flags = await runtime.misuse.scan();
        report(options, flags, () => flags.map(line).join('\n') || 'no new flags');
      } finally {
        await runtime.close();
      }
    }));
  misuse
    .command('flags')
    .description('list the misuse flags in the audit log')
    .option('--since <time>', 'only flags raised at or after this time (RFC 3339)')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: { since?: string; json: boolean }) => {
      if (options.since !== undefined && Number.isNaN(Date.parse(options.since))) {
        throw new GatewayError('invalid_argument', '--since must be a time such as 2026-12-01T00:00:00Z');
      }
      const runtime = await context.open();
      try {
        const flags = await runtime.misuse.flags(options.since === undefined ? undefined : new Date(options.since).toISOString());
        report(options, flags, () => flags.map(line).join('\n') || 'no flags');
      } finally {
        await runtime.close();
      }
    }));
}
