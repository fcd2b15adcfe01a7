#!/usr/bin/env node
/**
 * The `gateway` command. The one place that reads process.env: configuration is loaded and validated here and
 * handed to each command.
 */
import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import type { GatewayConfig } from '../config/index.js';
import { initialise, openRuntime } from '../runtime/index.js';
import type { CommandContext } from './context.js';
import { registerAlerts } from './commands/alerts.js';
import { registerAudit } from './commands/audit.js';
import { registerClient } from './commands/client.js';
import { registerConsent } from './commands/consent.js';
import { registerDatasets } from './commands/datasets.js';
import { registerDemoData } from './commands/demoData.js';
import { registerIngest } from './commands/ingest.js';
import { registerKeys } from './commands/keys.js';
import { registerParticipants } from './commands/participants.js';
import { registerQuestions } from './commands/questions.js';
import { registerReports } from './commands/reports.js';
import { registerServe } from './commands/serve.js';
import { registerInit } from './commands/setup.js';

let config: GatewayConfig | undefined;
const context: CommandContext = {
  config: () => (config ??= loadConfig(process.env)),
  gatewayUrl: () => process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:8080',
  async open(hooks) {
    const loaded = context.config();
    await initialise(loaded);
    return openRuntime(loaded, hooks);
  },
};

const program = new Command()
  .name('gateway')
  .description('Privacy-preserving data-usage gateway: records go in, only signed, audited answers come out.')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });
program.exitOverride((error) => {
  // commander's own usage errors (unknown option, missing argument) exit 1, help and version exit 0.
  process.exit(error.exitCode);
});

registerInit(program, context);
registerServe(program, context);
registerIngest(program, context);
registerDemoData(program, context);
registerKeys(program, context);
registerDatasets(program, context);
registerParticipants(program, context);
registerQuestions(program);
registerClient(program, context);
registerReports(program, context);
registerConsent(program, context);
registerAudit(program, context);
registerAlerts(program, context);

await program.parseAsync(process.argv);
