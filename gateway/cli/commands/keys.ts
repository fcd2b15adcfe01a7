/**
 * `gateway keys rotate`: a new signing key for what the gateway signs (the old one stays in the JWKS while its
 * signatures can be valid). `gateway keys rotate-data`: a new data key, then every record moved onto it in short
 * transactions.
 */
import type { Command } from 'commander';
import { recordSigningKids, reencryptStep, rotateSigningKey } from '../../keys/index.js';
import { formatCount, guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';

const STEP_ROWS = 2000;

export function registerKeys(keys: Command, context: CommandContext): void {
  keys
    .command('rotate')
    .description('make a new gateway signing key current; the previous one stays published in the JWKS until what it signed has expired')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (options: { json: boolean }) => {
      const config = context.config();
      const runtime = await context.open();
      let rotated;
      try {
        rotated = await rotateSigningKey(config.keysDir, new Date(), async (rotation) => {
          await runtime.audit.log.append({ kind: 'signing_key.rotated', actor: 'operator', details: { current_kid: rotation.current, retired_kid: rotation.retired } });
        });
        recordSigningKids(config.dataDir, [rotated.current]);
      } finally {
        await runtime.close();
      }
      const { current, retired } = rotated;
      report(options, { current_kid: current, retired_kid: retired, published_for_days: config.signatureLifetimeDays }, () =>
        `signing key ${current} is current; ${retired} is retired and stays in the JWKS for ${config.signatureLifetimeDays} days`);
    }));
  keys
    .command('rotate-data')
    .description('make a new data key current and re-encrypt stored records under it, in small transactions that run beside live traffic')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (options: { json: boolean }) => {
      const runtime = await context.open();
      try {
        const key = await runtime.keyring.rotate();
        // The new data key exists but guards nothing yet: logging it after the fact loses nothing.
        await runtime.audit.log.append({ kind: 'data_key.rotated', actor: 'operator', details: { data_key_id: key.id } });
        let progress = { lastRecordId: 0, scanned: 0, reencrypted: 0, done: false };
        let scanned = 0;
        let reencrypted = 0;
        while (!progress.done) {
          progress = await reencryptStep(runtime.store, runtime.keyring, progress.lastRecordId, STEP_ROWS);
          scanned += progress.scanned;
          reencrypted += progress.reencrypted;
          if (process.stderr.isTTY && !options.json) process.stderr.write(`\r  ${formatCount(scanned)} records scanned`);
          // Yield between steps so a server sharing the database gets its turn at the write lock.
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (process.stderr.isTTY && !options.json) process.stderr.write('\n');
        report(options, { data_key_id: key.id, scanned, reencrypted }, () =>
          `data key ${key.id} is current; ${formatCount(reencrypted)} of ${formatCount(scanned)} records re-encrypted under it`);
      } finally {
        await runtime.close();
      }
    }));
}
