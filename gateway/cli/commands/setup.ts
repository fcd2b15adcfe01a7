/** `gateway init`: create the key material the gateway needs (idempotent). */
import type { Command } from 'commander';
import { initialise } from '../../runtime/index.js';
import { guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';

export function registerInit(program: Command, context: CommandContext): void {
  program
    .command('init')
    .description('create missing key material in the keys directory (existing keys are never overwritten)')
    .option('--json', 'print the result as JSON', false)
    .action(guarded((options: { json: boolean }) => {
      const config = context.config();
      const created = initialise(config);
      report(options, { keys_dir: config.keysDir, created }, () =>
        created.length > 0 ? `created ${created.join(', ')} in ${config.keysDir}` : `nothing to do: keys already in ${config.keysDir}`);
    }));
}
