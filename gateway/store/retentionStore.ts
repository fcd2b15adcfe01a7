/**
 * Retention (docs/retention.md): batches whose period is past their dataset's retention are purged, and data keys no
 * remaining record is sealed under are destroyed (crypto-shredding of the copies the database cannot rewrite).
 *
 * Contract: a purge deletes all of the batch's records in one transaction and marks the batch purged; the batch's
 * metadata stays (receipts and audit entries that name it stay checkable), the supersession history of other batches
 * is untouched, and purging a batch again changes nothing. A record's data key is the one its sealed bytes' header
 * names (gateway/crypto/envelope.ts, `sealedHeaders`); the store reads that header only, never the ciphertext. The newest data key is
 * the current one and is never destroyed, nor is a key some record is still sealed under; a destroyed key's id is
 * remembered and never given to a new key.
 */

/** A batch past retention, as the job audits it before purging. */
export interface ExpiredBatch {
  readonly batchId: string;
  readonly dataset: string;
  readonly source: string;
  readonly rowCount: number;
  readonly asOf: string;
  /** Records of the batch still stored (fewer than rowCount when rows repeated a key inside the batch). */
  readonly storedRecords: number;
}

export interface DestroyedDataKey {
  readonly keyId: number;
  readonly destroyedAt: string;
}

export interface RetentionStore {
  /** Batches of `dataset` not yet purged whose as_of date is before `asOfBefore` (YYYY-MM-DD), oldest first. */
  expiredBatches(dataset: string, asOfBefore: string, limit: number): Promise<ExpiredBatch[]>;
  /**
   * Deletes the batch's records and marks it purged at `at` with the `retention.purged` audit entry, in one
   * transaction. Returns how many records it deleted; undefined when the batch is unknown or already purged.
   */
  purgeBatch(batchId: string, at: string, auditIndex: number): Promise<number | undefined>;
  /** How many batches were purged, per dataset. */
  countPurgedBatches(): Promise<Record<string, number>>;
  /** Ids of data keys, other than the newest, that no stored record is sealed under, in key-id order. */
  dataKeysWithoutRecords(): Promise<number[]>;
  /**
   * Deletes the wrapped key and remembers its id as destroyed at `at`, in one transaction, checked inside it: `in_use`,
   * and nothing changed, when it is the newest key or a record is still sealed under it; `absent` when there is no
   * such key (destroyed already, or never stored).
   */
  destroyDataKey(keyId: number, at: string): Promise<'destroyed' | 'in_use' | 'absent'>;
  /** In key-id order. */
  destroyedDataKeys(): Promise<DestroyedDataKey[]>;
}
