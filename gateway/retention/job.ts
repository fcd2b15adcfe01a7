/**
 * The retention job (docs/retention.md): for each dataset, the batches whose as_of date is older than today
 * (Asia/Shanghai) minus the dataset's years are purged, each after its `retention.purged` audit entry — fail closed:
 * when the entry cannot be written, nothing is purged. Then every data key no record is sealed under any more (never
 * the current one) is destroyed after its `retention.key_destroyed` entry: that is the crypto-shredding of copies the
 * database cannot rewrite (free pages, the WAL, backups). Consents and the audit log are never touched here.
 */
import type { AuditLog } from '../audit/index.js';
import { webhookSecretKeyId } from '../identity/webhooks.js';
import { todayInShanghai } from '../ingest/index.js';
import { dateMonthsBefore, formatDate, parseDate } from '../policies/dates.js';
import { GatewayError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import type { RetentionPolicy } from './policy.js';

/** Batches read per dataset at a time; the job goes on until none is left (a dry run reports the first page). */
const PAGE = 500;

export interface PurgeOutcome {
  readonly dataset: string;
  readonly batchId: string;
  readonly asOf: string;
  /** Records deleted (a dry run: the records that would be). */
  readonly records: number;
  /** The `retention.purged` entry; none in a dry run. */
  readonly auditIndex: number | undefined;
}

export interface KeyOutcome {
  readonly keyId: number;
  /** The `retention.key_destroyed` entry; none in a dry run. */
  readonly auditIndex: number | undefined;
}

export interface RetentionRun {
  readonly dryRun: boolean;
  /** Today in Asia/Shanghai, from which each dataset's cut-off is counted. */
  readonly today: string;
  /** Per dataset: batches with an as_of date before this are past retention. */
  readonly cutoffs: Readonly<Record<string, string>>;
  readonly purged: readonly PurgeOutcome[];
  readonly destroyedKeys: readonly KeyOutcome[];
  readonly policyVersion: number;
  readonly policySha256: string;
}

export interface RetentionJob {
  run(options?: { dryRun?: boolean }): Promise<RetentionRun>;
}

export interface RetentionDependencies {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly policy: RetentionPolicy;
  /** Who the entries name as actor: "gateway" for the scheduled run, "operator" for the CLI. */
  readonly actor: string;
  readonly now?: () => Date;
}

/** The first as_of date a dataset keeps: `years` whole years before today (29 February falls back to the 28th). */
export function retentionCutoff(today: string, years: number): string {
  const date = parseDate(today);
  if (date === undefined) throw new GatewayError('internal_error', `"${today}" is not a date`);
  return formatDate(dateMonthsBefore(date, years * 12));
}

export function createRetentionJob(deps: RetentionDependencies): RetentionJob {
  const now = deps.now ?? (() => new Date());
  const policyDetails = { policy_version: deps.policy.version, policy_sha256: deps.policy.sha256 };

  async function purgeDataset(dataset: string, years: number, cutoff: string, dryRun: boolean, purged: PurgeOutcome[]): Promise<void> {
    for (;;) {
      const batches = await deps.store.expiredBatches(dataset, cutoff, PAGE);
      for (const batch of batches) {
        if (dryRun) {
          purged.push({ dataset, batchId: batch.batchId, asOf: batch.asOf, records: batch.storedRecords, auditIndex: undefined });
          continue;
        }
        // The entry first: a purge nobody can account for must not happen, so a failed append stops the job here.
        const entry = await deps.audit.append({
          kind: 'retention.purged', actor: deps.actor,
          details: { dataset, batch_id: batch.batchId, source: batch.source, as_of: batch.asOf, rows: batch.storedRecords, years, cutoff, ...policyDetails },
        });
        const deleted = await deps.store.purgeBatch(batch.batchId, now().toISOString(), entry.index);
        purged.push({ dataset, batchId: batch.batchId, asOf: batch.asOf, records: deleted ?? 0, auditIndex: entry.index });
      }
      if (dryRun || batches.length < PAGE) return;
    }
  }

  async function destroyKeys(dryRun: boolean): Promise<KeyOutcome[]> {
    const destroyed: KeyOutcome[] = [];
    // Webhook secrets are sealed under data keys too (identity/webhooks.ts) and are not records: a key one of them is
    // sealed under stays. A secret sealed now is sealed under the current key, which is never destroyed.
    const sealingSecrets = new Set((await deps.store.listWebhooks()).map(webhookSecretKeyId));
    for (const keyId of await deps.store.dataKeysWithoutRecords()) {
      if (sealingSecrets.has(keyId)) continue;
      if (dryRun) {
        destroyed.push({ keyId, auditIndex: undefined });
        continue;
      }
      const entry = await deps.audit.append({ kind: 'retention.key_destroyed', actor: deps.actor, details: { key_id: keyId, ...policyDetails } });
      // Checked again inside the store's transaction: a key that gained a record or became current is kept, and its
      // entry then records an attempt that changed nothing (the next run finds it again, or not).
      const outcome = await deps.store.destroyDataKey(keyId, now().toISOString());
      if (outcome === 'destroyed') destroyed.push({ keyId, auditIndex: entry.index });
    }
    return destroyed;
  }

  return {
    async run({ dryRun = false } = {}) {
      const today = todayInShanghai(now());
      const cutoffs: Record<string, string> = {};
      const purged: PurgeOutcome[] = [];
      // One run at a time on the database: a scheduled run and an operator's never purge the same batch twice over.
      const destroyedKeys = await deps.store.exclusive(['retention'], async () => {
        for (const [dataset, years] of [...deps.policy.years].sort(([a], [b]) => a.localeCompare(b))) {
          const cutoff = retentionCutoff(today, years);
          cutoffs[dataset] = cutoff;
          await purgeDataset(dataset, years, cutoff, dryRun, purged);
        }
        return destroyKeys(dryRun);
      });
      return { dryRun, today, cutoffs, purged, destroyedKeys, policyVersion: deps.policy.version, policySha256: deps.policy.sha256 };
    },
  };
}
