/**
 * Test helper: batches for the storage contract suites. Monitoring answers and outbox events are written, and
 * answers read, only inside a batch's transaction (BatchTransaction); these helpers open one for that.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { BatchTransaction, CommitResult, MonitorAnswer, NewOutboxEvent, Store } from '../../gateway/store/index.js';
import { DATASET, batchMetadata, sealedRecords } from './fixtures.js';

/** Commits a batch of one subject's records, one per key, each sealed as `<batchId>:<key>`. */
export async function writeBatch(store: Store, batchId: string, asOf: string, keys: readonly string[], contentHash = randomBytes(8).toString('hex'),
  subject = 'subject-A'): Promise<CommitResult> {
  const writer = await store.beginBatch(DATASET);
  const earlier = await writer.add(sealedRecords(batchId, keys, subject));
  expect(earlier).to.deep.equal(keys.map(() => undefined));
  return writer.commit(batchMetadata(batchId, contentHash, asOf, keys.length));
}

/** Runs `work` inside the transaction of a batch with no records, and commits it. */
async function inEmptyBatch(store: Store, work: (transaction: BatchTransaction) => Promise<void>): Promise<void> {
  const writer = await store.beginBatch(DATASET);
  const batchId = `helper-${randomBytes(6).toString('hex')}`;
  await writer.commit(batchMetadata(batchId, batchId, '2026-11-01', 0), work);
}

/** Why a read-only look inside a batch's transaction throws: so that the batch rolls back. */
class LookedInside extends Error {}

/** What `read` finds inside a batch's transaction; the batch is rolled back, so nothing is stored. */
export async function readInsideBatch<T>(store: Store, read: (transaction: BatchTransaction) => Promise<T>): Promise<T> {
  let found: { value: T } | undefined;
  const writer = await store.beginBatch(DATASET);
  try {
    await writer.commit(batchMetadata('look-inside', randomBytes(8).toString('hex'), '2026-11-01', 0), async (transaction) => {
      found = { value: await read(transaction) };
      throw new LookedInside();
    });
  } catch (error) {
    if (!(error instanceof LookedInside)) throw error;
  }
  await writer.abort();
  if (!found) throw new Error('the batch transaction never ran');
  return found.value;
}

export function answersOf(store: Store, subscriptionId: string): Promise<MonitorAnswer[]> {
  return readInsideBatch(store, (transaction) => transaction.monitorAnswers([subscriptionId]));
}

export function addEvents(store: Store, events: readonly NewOutboxEvent[]): Promise<void> {
  return inEmptyBatch(store, (transaction) => transaction.addEvents(events));
}
