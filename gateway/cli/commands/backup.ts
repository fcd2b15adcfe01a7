/**
 * `gateway backup <directory>` and `gateway restore <directory>` (docs/operations.md, "Backup and restore"): the
 * gateway's databases with the checkpoint and key fingerprints of the moment, and their restore into an empty data
 * directory or database, checked against that checkpoint. Exit 1 when the restored log does not verify.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { backUp, restore } from '../../runtime/backup.js';
import { guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';
import { describeVerification, verificationJson } from './audit.js';

export function registerBackup(backup: Command, context: CommandContext): void {
  backup
    .argument('<directory>', 'a new or empty directory for the backup')
    .option('--json', 'print the manifest as JSON', false)
    .action(guarded(async (directory: string, options: { json: boolean }) => {
      const manifest = await backUp(context.config(), path.resolve(directory));
      report(options, manifest, () => [
        `backed up the ${manifest.engine} gateway into ${path.resolve(directory)}`,
        ...manifest.files.map((file) => `  ${file.name}  ${file.bytes} bytes  sha256 ${file.sha256}`),
        manifest.checkpoint ? `  checkpoint: tree size ${manifest.checkpoint.tree_size}` : '  no signed checkpoint yet: the restored log cannot be checked against one',
      ].join('\n'));
    }));
}

export function registerRestore(command: Command, context: CommandContext): void {
  command
    .argument('<directory>', 'a directory written by `gateway backup`')
    .option('--json', 'print the verification as JSON', false)
    .action(guarded(async (directory: string, options: { json: boolean }) => {
      const { manifest, verification } = await restore(context.config(), path.resolve(directory));
      report(options, { manifest, verification: verificationJson(verification) }, () =>
        `restored the ${manifest.engine} backup of ${manifest.created_at}\n${describeVerification(verification)}`);
      if (!verification.ok) process.exitCode = 1;
    }));
}
