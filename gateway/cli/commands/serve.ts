/**
 * `gateway serve` (what `npm start` runs): on a fresh data directory creates the missing keys (as `gateway init`),
 * loads the demo population into an empty store and creates one development participant per role in an empty
 * registry (both unless GATEWAY_DEMO_ENTERPRISES=0); closes what a crash left open (audit entries of committed
 * batches, consent use counts ahead of the log); and serves until SIGTERM/SIGINT.
 */
import type { Command } from 'commander';
import { datasetIds } from '../../datasets/registry.js';
import { loadDemoPopulation } from '../../demo/load.js';
import { demoEnterprise } from '../../demo/population.js';
import { DEV_PARTICIPANT_IDS, ensureDevParticipants } from '../../identity/index.js';
import { reconcileConsentUses } from '../../consent/index.js';
import { auditUnloggedBatches, todayInShanghai } from '../../ingest/index.js';
import { startServer } from '../../http/server.js';
import { countIngestedBatch, createLogger, createMetrics } from '../../observability/index.js';
import { initialise, isFreshDataDirectory } from '../../runtime/index.js';
import { guarded } from '../output.js';
import type { CommandContext } from '../context.js';

const DEMO_SEED = 1;

export function registerServe(serve: Command, context: CommandContext): void {
  serve
    .action(guarded(async () => {
      const config = context.config();
      const logger = createLogger(config.logLevel);
      const metrics = createMetrics();
      // Only a fresh data directory gets keys made for it: a used one must have its own (runtime/keyCheck.ts).
      if (isFreshDataDirectory(config)) {
        const created = await initialise(config, (message) => logger.warn(message));
        if (created.length > 0) logger.info({ keys_dir: config.keysDir, created }, 'keys created for a fresh data directory');
      }
      const runtime = await context.open({ onBatch: (receipt) => countIngestedBatch(metrics, receipt), logger });
      if (config.demoEnterprises > 0 && await runtime.store.countRecords() === 0) {
        const asOf = todayInShanghai();
        const receipts = await loadDemoPopulation(runtime.ingestor, { enterprises: config.demoEnterprises, seed: DEMO_SEED, asOf });
        logger.info({ enterprises: config.demoEnterprises, batches: receipts.length, rows: receipts.reduce((sum, r) => sum + r.rowCount, 0) }, 'demo population loaded');
      }
      if (config.demoEnterprises > 0) {
        const enterprise = demoEnterprise({ enterprises: config.demoEnterprises, seed: DEMO_SEED, asOf: todayInShanghai() }, 0);
        const created = await ensureDevParticipants(runtime.participants, config.keysDir, {
          enterpriseUscc: enterprise.uscc, enterpriseName: enterprise.name, datasets: datasetIds,
        });
        if (created.length > 0) logger.info({ participants: created.map((participant) => participant.participantId) }, 'development participants created');
      }
      // What a crash left half-done is finished only when no other gateway serves the database: otherwise it may be
      // another instance's work in flight (Coordination.join); it is finished when an instance next starts alone.
      const alone = await runtime.store.join(async () => {
        const recovered = await auditUnloggedBatches(runtime.store, runtime.audit.log);
        if (recovered > 0) logger.warn({ batches: recovered }, 'audit entries written for batches committed before a crash');
        // Before any verification: each consent's use count becomes what the audit log shows (a crash leaves it ahead).
        const reconciled = await reconcileConsentUses(runtime.store, runtime.audit.log);
        if (reconciled.length > 0) {
          logger.warn({ consents: reconciled.map((use) => ({ consent_id: use.consentId, counted: use.counted, logged: use.logged, state: use.state })) },
            'consent use counts set to the answers in the audit log (a crash came between a use and its audit entry)');
        }
        const corrections = await runtime.objections.recover();
        if (corrections > 0) logger.warn({ objections: corrections }, 'corrections committed before a crash audited and their banks notified');
      });
      if (!alone) logger.info('other gateway instances serve this database: crash recovery is left to the next instance that starts alone');
      let running;
      try {
        running = await startServer(runtime, logger, metrics);
      } catch (error) {
        // Nothing is served (the port is taken, say): close what was opened, so the process can exit with the message.
        await runtime.close();
        throw error;
      }
      // Handlers before the banner: a supervisor may signal as soon as it reads "listening".
      const shutdown = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        void running.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      logger.info({
        url: running.url, data_dir: config.dataDir, engine: runtime.store.engine.name, database: runtime.store.engine.location,
        crypto_profile: runtime.cryptoProfile,
      }, 'gateway listening');
      process.stderr.write([
        `gateway listening on ${running.url}`,
        `  portal: ${running.url}/portal/   (enterprises, auditors, operators; see docs/portal.md)`,
        `  try:  curl -i ${running.url}/healthz`,
        `        curl ${running.url}/.well-known/jwks.json`,
        '        npx gateway participants list',
        `        npx gateway client ingest medical_insurance_arrears arrears.csv --as ${DEV_PARTICIPANT_IDS.source}   (see README "Try it")`,
        '  stop: Ctrl-C (finishes in-flight requests, then closes the database)',
        '',
      ].join('\n'));
    }));
}
