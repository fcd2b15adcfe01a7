/**
 * Reads a subject's records back: finds them through the blind index and opens them in memory. Only code inside the
 * gateway calls this (question evaluation, tests); nothing it returns may leave the process.
 */
import { createBlindIndexer, openRecord, recordAssociatedData, sealedKeyId } from '../crypto/index.js';
import type { SubjectId, BlindIndexKey } from '../crypto/index.js';
import type { DatasetRegistry, NormalisedRecord } from '../datasets/registry.js';
import type { DataKeyring } from '../keys/index.js';
import type { Question, RecordsByDataset } from '../policies/index.js';
import type { Store } from '../store/index.js';
import { createSubjectFacts } from './subjectFacts.js';

export interface OpenedRecord {
  readonly recordId: number;
  readonly values: NormalisedRecord;
  readonly batchId: string;
  readonly source: string;
  readonly asOf: string;
  readonly receivedAt: string;
  readonly supersededBy: string | undefined;
}

export interface RecordReader {
  /** Current records of a subject in a dataset (with history when asked). */
  bySubject(dataset: string, subject: SubjectId, options?: { includeHistory?: boolean }): Promise<OpenedRecord[]>;
  /**
   * What `questions` read of an enterprise's current records, from its subject facts (subjectFacts.ts): the
   * evaluator's input, giving the answers the full records give. Only questions of the catalog the reader was made with.
   */
  forQuestions(uscc: string, questions: readonly Question[]): Promise<RecordsByDataset>;
}

/** A sealed record's values, opened in memory: the one place records are decrypted for reading. */
export async function openValues(keyring: DataKeyring, dataset: string, recordId: number, sealed: Uint8Array): Promise<NormalisedRecord> {
  const key = await keyring.get(sealedKeyId(sealed));
  return JSON.parse(openRecord(() => key, recordAssociatedData(dataset, recordId), sealed).toString('utf8')) as NormalisedRecord;
}

export function createRecordReader(
  store: Store, registry: DatasetRegistry, keyring: DataKeyring, blindIndexKey: BlindIndexKey, questions: readonly Question[],
): RecordReader {
  const indexer = createBlindIndexer(blindIndexKey);
  const facts = createSubjectFacts({
    store, keyring, blindIndexKey, questions,
    currentRecords: async (dataset, subjectIndex) => Promise.all((await store.recordsBySubject(dataset, subjectIndex)).map(async (stored) => ({
      values: await openValues(keyring, dataset, stored.recordId, stored.sealed), asOf: stored.asOf,
    }))),
  });
  return {
    forQuestions: (uscc, asked) => facts.read(uscc, asked),
    async bySubject(dataset, subject, options) {
      const definition = registry.get(dataset);
      const stored = await store.recordsBySubject(definition.id, indexer.subject(subject), options);
      return Promise.all(stored.map(async (stored) => ({
        recordId: stored.recordId,
        values: await openValues(keyring, definition.id, stored.recordId, stored.sealed),
        batchId: stored.batchId,
        source: stored.source,
        asOf: stored.asOf,
        receivedAt: stored.receivedAt,
        supersededBy: stored.supersededBy,
      })));
    },
  };
}
