#!/usr/bin/env node
/**
 * The `gateway` command. The one place that reads process.env: configuration is loaded and validated here and
 * handed to each command.
 *
 * Only the command being run is loaded: each command module pulls in what it needs (the store, the schemas, express,
 * the crypto libraries), and loading all of them for every call made a plain `gateway --help` take seconds. The
 * table below is what `gateway --help` lists without loading any of them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import type { GatewayConfig } from '../config/index.js';
import { packageRoot } from '../paths.js';
import type { CommandContext } from './context.js';

type Register = (command: Command, context: CommandContext) => void;

interface TopLevelCommand {
  readonly description: string;
  load(): Promise<Register>;
}

const COMMANDS: Readonly<Record<string, TopLevelCommand>> = {
  init: {
    description: 'create missing key material in the keys directory: data keys, the platform CA, the gateway signing key (existing keys are never overwritten)',
    load: async () => (await import('./commands/setup.js')).registerInit,
  },
  serve: {
    description: 'serve HTTP on HOST:PORT (default 127.0.0.1:8080); an empty store gets a demo population first',
    load: async () => (await import('./commands/serve.js')).registerServe,
  },
  ingest: {
    description: 'ingest a CSV, NDJSON or JSON-array file into a dataset; all rows or none',
    load: async () => (await import('./commands/ingest.js')).registerIngest,
  },
  'demo-data': {
    description: 'generate and ingest a deterministic synthetic population across all twelve datasets',
    load: async () => (await import('./commands/demoData.js')).registerDemoData,
  },
  keys: {
    description: 'manage signing and encryption keys',
    load: async () => (await import('./commands/keys.js')).registerKeys,
  },
  datasets: {
    description: 'the twelve datasets of the data catalog',
    load: async () => (await import('./commands/datasets.js')).registerDatasets,
  },
  batches: {
    description: 'ingested batches and their provenance',
    load: async () => (await import('./commands/datasets.js')).registerBatches,
  },
  participants: {
    description: 'the participants who may talk to the gateway',
    load: async () => (await import('./commands/participants.js')).registerParticipants,
  },
  questions: {
    description: 'the fixed, versioned questions banks may ask (policies/)',
    load: async () => (await import('./commands/questions.js')).registerQuestions,
  },
  client: {
    description: 'talk to a running gateway as a participant (GATEWAY_URL or --url), with signed requests',
    load: async () => (await import('./commands/client.js')).registerClient,
  },
  consent: {
    description: 'enterprises\' consents for banks (through a running gateway, GATEWAY_URL or --url)',
    load: async () => (await import('./commands/consent.js')).registerConsent,
  },
  backup: {
    description: 'back up the databases, key fingerprints and current checkpoint into a new directory (SQLite online backup, or pg_dump)',
    load: async () => (await import('./commands/backup.js')).registerBackup,
  },
  restore: {
    description: 'restore a backup into an empty data directory (or database) and verify its audit log against its checkpoint',
    load: async () => (await import('./commands/backup.js')).registerRestore,
  },
  audit: {
    description: 'check the audit log and proofs of it',
    load: async () => (await import('./commands/audit.js')).registerAudit,
  },
  alerts: {
    description: 'monitoring events waiting for, done with or given up on delivery',
    load: async () => (await import('./commands/alerts.js')).registerAlerts,
  },
  uplink: {
    description: 'batch manifests for the national credit-information platform: pending, acknowledged, dead-lettered; replay',
    load: async () => (await import('./commands/uplink.js')).registerUplink,
  },
  report: {
    description: 'check a credit report saved by `gateway client report`, offline',
    load: async () => (await import('./commands/reports.js')).registerReport,
  },
  objections: {
    description: 'enterprises\' objections to the records about them, and their deadlines',
    load: async () => (await import('./commands/reports.js')).registerObjections,
  },
  misuse: {
    description: 'banks\' unusual query patterns flagged by the rules in policies/misuse.json',
    load: async () => (await import('./commands/misuse.js')).registerMisuse,
  },
  retention: {
    description: 'records purged past their dataset\'s retention (policies/retention.json), data keys destroyed after them',
    load: async () => (await import('./commands/retention.js')).registerRetention,
  },
  scorecards: {
    description: 'banks\' scorecards awaiting review: list, approve or reject them (audited)',
    load: async () => (await import('./commands/scorecards.js')).registerScorecards,
  },
};

/** The command named on the command line (`gateway help <command>` names it second), if any. */
function commandNamed(args: readonly string[]): string | undefined {
  const words = args.filter((arg) => !arg.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

let config: GatewayConfig | undefined;
const context: CommandContext = {
  config: () => (config ??= loadConfig(process.env)),
  gatewayUrl: () => process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:8080',
  // Async for the storage engines to come; creates no key (only `init`, and `serve` on a fresh data directory, do).
  async open(hooks) {
    const { openRuntime } = await import('../runtime/index.js');
    return openRuntime(context.config(), hooks);
  },
  async openStore() {
    const [{ DATABASE_FILE }, { openGatewayStore, requireExistingStore }] = await Promise.all([import('../runtime/files.js'), import('../runtime/stores.js')]);
    requireExistingStore(context.config(), DATABASE_FILE);
    return openGatewayStore(context.config());
  },
};

const program = new Command()
  .name('gateway')
  .description('Privacy-preserving data-usage gateway: records go in, only signed, audited answers come out.')
  .version(packageVersion(), '-V, --version', 'print the gateway\'s version')
  .option('--debug', 'on an unexpected failure, print its stack trace too', false)
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });
program.exitOverride((error) => {
  // commander's own usage errors (unknown option, missing argument) exit 1, help and version exit 0.
  process.exit(error.exitCode);
});

const named = commandNamed(process.argv.slice(2));
for (const [name, { description, load }] of Object.entries(COMMANDS)) {
  const command = program.command(name).description(description);
  if (name === named) (await load())(command, context);
}

await program.parseAsync(process.argv);
