/**
 * Wires the gateway's parts from a validated config: keys, store, dataset registry, keyring, ingestor and record
 * reader. The CLI commands and the HTTP server both start from here, so there is one way to open the gateway.
 */
import type { CryptoProfileName } from '../crypto/index.js';
import { checkLogAtStart, createAuditLog, createCheckpointer, createWitnessSubmitter } from '../audit/index.js';
import type { AuditLog, Checkpointer } from '../audit/index.js';
import type { GatewayConfig } from '../config/index.js';
import { createConsentService } from '../consent/index.js';
import type { ConsentQuestions, ConsentService } from '../consent/index.js';
import { GatewayError } from '../errors/index.js';
import { createMisuseNotifier, createMisuseScanner, loadMisusePolicy } from '../misuse/index.js';
import { createSupportService, loadSupportPolicies } from '../support/index.js';
import type { SupportService } from '../support/index.js';
import type { MisuseNotifier, MisuseScanner } from '../misuse/index.js';
import { createRetentionJob, loadRetentionPolicy } from '../retention/index.js';
import type { RetentionJob, RetentionPolicy } from '../retention/index.js';
import { loadMonitorRules, loadQuestionCatalog, loadReportTemplates } from '../policies/index.js';
import type { MonitorRules, QuestionCatalog, ReportTemplates } from '../policies/index.js';
import { createObjectionService } from '../objections/index.js';
import type { ObjectionService } from '../objections/index.js';
import { createReportRenderer, createReportService } from '../reports/index.js';
import { allowsScoring, createBacktestService, createScoreService, createScorecardService, loadReviewRules, parseScorecardRef } from '../scoring/index.js';
import type { BacktestService, ReviewRules, ScoreService, ScorecardService } from '../scoring/index.js';
import type { ReportRenderer, ReportService } from '../reports/index.js';
import { createVerificationService } from '../verification/index.js';
import type { VerificationService } from '../verification/index.js';
import { datasetIds, loadDatasetRegistry } from '../datasets/registry.js';
import type { DatasetRegistry } from '../datasets/registry.js';
import { createIngestor } from '../ingest/index.js';
import type { Ingestor, IngestReceipt } from '../ingest/index.js';
import { configureWebhook, createEnrolmentCodes, createParticipantRegistry, createReplayGuard, createRequestAuthenticator, ensureAuthority, loadAuthority } from '../identity/index.js';
import type { EnrolmentCodes, ParticipantRegistry, RequestAuthenticator, WebhookChange, WebhookResult } from '../identity/index.js';
import { createMonitoring } from '../monitoring/index.js';
import { sealClearWebhookSecrets } from '../identity/webhooks.js';
import { resolveWebhookTarget, systemResolver } from '../identity/webhookTarget.js';
import type { Resolver } from '../identity/webhookTarget.js';
import type { Monitoring } from '../monitoring/index.js';
import { ensureNoteKey, ensureSecrets, ensureSigningKeys, NOTE_KEY_FILE, openDataKeyring, SIGNING_KEYS_FILE } from '../keys/index.js';
import type { DataKeyring, NoteKey, SigningKeySet } from '../keys/index.js';
import { createLogger } from '../observability/index.js';
import type { Logger } from '../observability/index.js';
import { createGatewaySigner } from '../signing/signer.js';
import type { GatewaySigner } from '../signing/signer.js';
import { createRecordReader } from '../records/index.js';
import type { RecordReader } from '../records/index.js';
import type { AuditStore, Store } from '../store/index.js';
import { createUplink, openPlatform } from '../uplink/index.js';
import type { Uplink } from '../uplink/index.js';

import { ensureDataDirectory, isFreshDataDirectory } from './dataDirectory.js';
import { openGatewayAuditStore, openGatewayStore } from './stores.js';
import { checkDatabaseKeys, openVouchedKeys } from './keyCheck.js';

/** The audit log and what signs and serves its checkpoints. */
export interface AuditRuntime {
  readonly store: AuditStore;
  readonly log: AuditLog;
  readonly checkpointer: Checkpointer;
  readonly noteKey: NoteKey;
}

export interface Runtime {
  readonly config: GatewayConfig;
  /** The crypto profile the keys were made for (keys/crypto-profile). */
  readonly cryptoProfile: CryptoProfileName;
  readonly store: Store;
  readonly registry: DatasetRegistry;
  readonly keyring: DataKeyring;
  readonly ingestor: Ingestor;
  readonly records: RecordReader;
  readonly participants: ParticipantRegistry;
  /** One-time enrolment codes: the portal's enrolment of an enterprise whose key its browser made. */
  readonly enrolment: EnrolmentCodes;
  /** The platform root certificate (PEM), served at GET /v1/ca. */
  readonly caCertificatePem: string;
  readonly signingKeys: SigningKeySet;
  readonly signer: GatewaySigner;
  readonly authenticator: RequestAuthenticator;
  readonly audit: AuditRuntime;
  readonly questions: QuestionCatalog;
  /** The monitor rules (policies/monitors.json), whose titles the portal shows beside an enterprise's alerts. */
  readonly monitorRules: MonitorRules;
  readonly consents: ConsentService;
  readonly verifications: VerificationService;
  /** Scorecards (docs/modelling.md): the rules they are reviewed by, their submission and approval, scores, back-tests. */
  readonly reviewRules: ReviewRules;
  readonly scorecards: ScorecardService;
  readonly scores: ScoreService;
  readonly backtests: BacktestService;
  readonly templates: ReportTemplates;
  readonly reports: ReportService;
  readonly reportRenderer: ReportRenderer;
  readonly objections: ObjectionService;
  /** Support policies (政策直达): eligibility for enterprises, counts for departments. */
  readonly support: SupportService;
  /** Misuse rules over the audit log; the serving process scans on an interval (startServer). */
  readonly misuse: MisuseScanner;
  /** The retention schedule (docs/retention.md) and its job, whose entries name `actor` ("gateway" when scheduled). */
  readonly retention: { readonly policy: RetentionPolicy; job(actor: string): RetentionJob };
  /** Sends new flags to the operator's webhook, when GATEWAY_MISUSE_WEBHOOK_URL is set. */
  readonly notifyMisuse: MisuseNotifier | undefined;
  /** Risk monitoring; its delivery worker runs only in the serving process (startServer starts it). */
  readonly monitoring: Monitoring;
  /** The national uplink (docs/uplink.md); its worker runs only in the serving process (startServer starts it). */
  readonly uplink: Uplink;
  /** The operator registers a bank's webhook URL or rotates its secret. */
  configureWebhook(participantId: string, change: WebhookChange): Promise<WebhookResult>;
  close(): Promise<void>;
}

/**
 * `gateway init` (and `serve` on a fresh data directory): on a fresh data directory, creates the key material that is
 * missing (data secrets, the platform CA, the signing keys, the audit note key) and records the fingerprints of the
 * keys; on a used one creates nothing and checks that every key is there and the one it was used with. Returns the
 * names of the files it created; existing keys are never overwritten.
 */
export async function initialise(config: GatewayConfig, warn: (message: string) => void = warnOnStderr): Promise<string[]> {
  ensureDataDirectory(config.dataDir);
  const fresh = isFreshDataDirectory(config);
  const created: string[] = [];
  if (fresh) {
    created.push(...ensureSecrets(config.keysDir, config.cryptoProfile), ...ensureAuthority(config.keysDir, config.gatewayId));
    if (await ensureSigningKeys(config.keysDir)) created.push(SIGNING_KEYS_FILE);
    if (ensureNoteKey(config.keysDir, config.auditOrigin)) created.push(NOTE_KEY_FILE);
  }
  openVouchedKeys(config, fresh, warn);
  return created;
}

function warnOnStderr(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

export interface RuntimeHooks {
  /** Called after each committed ingestion batch, stored or duplicate (metrics). */
  readonly onBatch?: (receipt: IngestReceipt) => void;
  /** Where failed witness submissions are reported; without one, stderr at the configured level. */
  readonly logger?: Logger;
  /** How webhook hosts are resolved; the system resolver by default (tests play DNS with it). */
  readonly resolveHost?: Resolver;
}

/**
 * The catalog as consents see it: a name that is neither a question, a pack nor a scorecard's consent name
 * (`scorecard.<id>.v<version>`, docs/modelling.md) is question_unknown. A scorecard's name is allowed for the purposes
 * the review rules let score; whether it is approved, whose it is and its own purposes are checked when scoring, so a
 * consent may be given before the scorecard is approved and is useless until it is.
 */
function consentQuestions(catalog: QuestionCatalog, rules: ReviewRules): ConsentQuestions {
  return {
    resolve(names) {
      const scorecards = names.filter((name) => parseScorecardRef(name) !== undefined);
      const questions = names.filter((name) => parseScorecardRef(name) === undefined);
      try {
        return [...(questions.length > 0 ? catalog.resolve(questions) : []), ...scorecards];
      } catch (error) {
        if (error instanceof GatewayError && error.code === 'invalid_argument') throw new GatewayError('question_unknown', error.message);
        throw error;
      }
    },
    allowsPurpose: (id, purpose) => parseScorecardRef(id) === undefined
      ? catalog.allowsPurpose(id, purpose)
      : allowsScoring(rules, purpose),
  };
}

/**
 * Opens the gateway on its data directory. Creates no key: every key must be there and, once the data directory
 * holds anything, be the one it was used with (runtime/keyCheck.ts).
 */
export async function openRuntime(config: GatewayConfig, hooks: RuntimeHooks = {}): Promise<Runtime> {
  const logger = hooks.logger ?? createLogger(config.logLevel, process.stderr);
  ensureDataDirectory(config.dataDir);
  const { fingerprints, secrets, caCertificatePem, signingKeys, noteKey } = openVouchedKeys(config, isFreshDataDirectory(config), (message) => logger.warn(message));
  const registry = loadDatasetRegistry();
  const questions = loadQuestionCatalog(undefined, registry);
  const monitorRules = loadMonitorRules(questions);
  const templates = loadReportTemplates(questions);
  const misusePolicy = loadMisusePolicy(config.misuse.policyFile);
  const retentionPolicy = loadRetentionPolicy(config.retention.policyFile);
  const supportPolicies = loadSupportPolicies(questions);
  const reviewRules = loadReviewRules();
  const reportRenderer = createReportRenderer({ font: { file: config.reports.fontFile, name: config.reports.fontName }, templates });
  const store = await openGatewayStore(config);
  let auditStore: AuditStore | undefined;
  try {
    await checkDatabaseKeys(store, config.keysDir, fingerprints);
    auditStore = await openGatewayAuditStore(config);
    const log = createAuditLog(auditStore);
    const anchorFiles = { checkpointFile: config.checkpointFile, witnessCheckpointFile: config.witnessCheckpointFile };
    // Before anything is appended or signed: the stored log must extend every checkpoint the gateway signed.
    const lastSigned = await checkLogAtStart({ store: auditStore, log, key: noteKey, files: anchorFiles, warn: (message) => logger.warn(message) });
    const witnesses = config.witnesses.length === 0 ? undefined : createWitnessSubmitter({
      witnesses: config.witnesses, log, store: auditStore, logger,
    });
    const audit: AuditRuntime = {
      store: auditStore, log, noteKey,
      checkpointer: createCheckpointer({
        store: auditStore, log, key: noteKey, intervalMs: config.checkpointIntervalMs, files: anchorFiles, lastSigned,
        leads: () => store.leads('checkpoints'),
        onError: (error) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'no checkpoint was signed'),
        // Submission runs in the background and never throws: a witness that is down does not stop checkpoints.
        onCheckpoint: witnesses && ((checkpoint) => void witnesses.submit(checkpoint)),
      }),
    };
    const keyring = await openDataKeyring(store, secrets.kek);
    // An older gateway kept webhook secrets in the clear: seal them before anything can read them.
    await sealClearWebhookSecrets(store, keyring);
    const resolveHost = hooks.resolveHost ?? systemResolver;
    const resolveTarget = (url: string) => resolveWebhookTarget(url, config.webhookAllowedNetworks, resolveHost);
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const signer = createGatewaySigner({ keys: signingKeys, issuer: config.gatewayId, lifetimeDays: config.signatureLifetimeDays });
    const records = createRecordReader(store, registry, keyring, secrets.blindIndex, questions.questions);
    const monitoring = createMonitoring({
      store, questions, rules: monitorRules, keyring, blindIndexKey: secrets.blindIndex, records, audit: log, signer,
      consents: () => consents, delivery: config.alertDelivery, resolveTarget, logger,
    });
    const consents = createConsentService({
      store, audit: log, questions: consentQuestions(questions, reviewRules), maxDays: config.consentMaxDays, signer, nowSeconds,
      caCertificatePem, clockSkewSeconds: config.clockSkewSeconds, onConsentEnded: monitoring.consentEnded,
    });
    const objections = createObjectionService({
      store, questions, records, audit: log, blindIndexKey: secrets.blindIndex, deadlineDays: config.objectionDeadlineDays,
      onEvents: () => monitoring.delivery.nudge(),
    });
    const uplink = createUplink({
      store, audit: log, signer, logger, gateway: config, resolveTarget,
      delivery: config.uplink && { config: config.uplink, platform: await openPlatform(config.uplink) },
    });
    const ingestor = createIngestor({
      store, registry, keyring, blindIndexKey: secrets.blindIndex, workers: config.ingestWorkers,
      maxRecordBytes: config.maxRecordBytes, audit: log, correctObjection: objections.correctInBatch,
      onBatch(receipt) {
        hooks.onBatch?.(receipt);
        // The batch's audit entry is recorded now: its manifest is due.
        if (receipt.outcome === 'stored') uplink.worker.nudge();
      },
      // Alerts and the uplink manifest commit with the batch's records, or nothing does.
      async beforeCommit(transaction, dataset) {
        await monitoring.beforeCommit(transaction, dataset);
        await uplink.beforeCommit(transaction);
      },
    });
    // The CA's private key is read only when a certificate is issued, not kept in the serving process.
    const participants = createParticipantRegistry({
      store, authority: () => loadAuthority(config.keysDir), datasetIds, audit: log,
      // A revoked enterprise's consents end, with the consent.revoked events banks get for any revocation.
      async onStatusChanged(participant, change) {
        if (participant.role === 'enterprise' && change === 'revoke') await consents.revokeAllAbout(participant.uscc as string, 'enterprise_revoked');
      },
    });
    return {
      config, cryptoProfile: secrets.profile.name, store, registry, keyring, ingestor, caCertificatePem, signingKeys, audit, signer, questions, monitorRules,
      support: createSupportService({
        policies: supportPolicies, questions, records, participants, audit: log, signer, minCell: config.supportMinCell,
      }),
      misuse: createMisuseScanner({ audit: log, participants, policy: misusePolicy, autoSuspend: config.misuse.autoSuspend }),
      retention: { policy: retentionPolicy, job: (actor) => createRetentionJob({ store, audit: log, policy: retentionPolicy, actor }) },
      notifyMisuse: config.misuse.webhookUrl === undefined ? undefined : createMisuseNotifier({
        url: config.misuse.webhookUrl, signer, resolveTarget, logger, timeoutMs: config.alertDelivery.timeoutMs,
      }),
      consents,
      monitoring,
      uplink,
      templates,
      reportRenderer,
      objections,
      reports: createReportService({
        consents, store, questions, templates, records, audit: log, checkpointer: audit.checkpointer, signer,
        questionsPerMinute: config.consentQuestionsPerMinute, refusalsPerMinute: config.bankRefusalsPerMinute,
      }),
      configureWebhook: (participantId, change) =>
        (configureWebhook({ store, audit: log, keyring, allowedNetworks: config.webhookAllowedNetworks, resolve: resolveHost }, participantId, change)),
      verifications: createVerificationService({
        consents, consentStore: store, disputes: store, questions, records, audit: log, signer,
        limits: {
          bankPerSecond: config.bankQuestionsPerSecond, consentPerMinute: config.consentQuestionsPerMinute, reuseSeconds: config.answerReuseSeconds,
          bankRefusalsPerMinute: config.bankRefusalsPerMinute,
        },
      }),
      reviewRules,
      scorecards: createScorecardService({ store, questions, rules: reviewRules, audit: log }),
      scores: createScoreService({
        consents, consentStore: store, scorecards: store, disputes: store, questions, rules: reviewRules, records, audit: log, signer,
        limits: {
          bankPerSecond: config.bankQuestionsPerSecond, consentPerMinute: config.consentQuestionsPerMinute, bankRefusalsPerMinute: config.bankRefusalsPerMinute,
        },
      }),
      backtests: createBacktestService({
        consents, consentStore: store, scorecards: store, disputes: store, questions, records, rules: reviewRules, audit: log, signer,
      }),
      records,
      participants,
      enrolment: createEnrolmentCodes({ store, participants, audit: log, gatewayId: config.gatewayId, clockSkewSeconds: config.clockSkewSeconds }),
      authenticator: createRequestAuthenticator({
        store, caCertificatePem, audience: config.gatewayId, clockSkewSeconds: config.clockSkewSeconds,
        replayGuard: createReplayGuard(store, nowSeconds), nowSeconds,
      }),
      async close() {
        await monitoring.delivery.stop();
        await uplink.worker.stop();
        await ingestor.close();
        await log.flush();
        await audit.checkpointer.stop();
        // The last checkpoint's submission is awaited (bounded by the witness timeout) before the store closes.
        await witnesses?.close();
        await auditStore?.close();
        await store.close();
      },
    };
  } catch (error) {
    await auditStore?.close();
    await store.close();
    throw error;
  }
}
