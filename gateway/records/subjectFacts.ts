/**
 * Subject facts: what the questions read of a subject's current records in one dataset — every record, in order,
 * cut down to its as-of date and the fields some question reads — sealed in one row (gateway/store/factsStore.ts).
 * Answering an item then opens one small row per dataset instead of every record: a subject's 24 monthly payments
 * become one row of 24 (as-of, status) pairs rather than 24 sealed records.
 *
 * Why this and not cached answers: the facts are the evaluator's own input, so every question is still evaluated on
 * the day it is asked ("paid within the last 3 months" is right tomorrow too) by the same evaluator, and a question
 * gives exactly the answer it gives over the full records. The evaluator reads nothing else of a record
 * (Program.reads); test/records/subjectFacts.test.ts checks the equality over random populations and dates.
 *
 * Facts are derived on first use and kept while their dataset's generation stands: a batch committing or purged
 * changes it, in its own transaction, so facts are never served once their records have changed. Derivation reads
 * the generation before the records, so facts derived while a batch commits are labelled with the generation before
 * it and are never served. They are sealed like records, under the current data key, with the subject, dataset and
 * generation as associated data: a row copied onto another subject, or relabelled with a later generation, fails
 * to open.
 *
 * Reads arriving in the same turn of the event loop (the items of a screening request) go to the store together,
 * in one call.
 */
import { randomBytes } from 'node:crypto';
import { createBlindIndexer, openRecord, sealedKeyId, sealRecord } from '../crypto/index.js';
import type { BlindIndexKey } from '../crypto/index.js';
import type { NormalisedRecord } from '../datasets/registry.js';
import { GatewayError } from '../errors/index.js';
import type { DataKeyring } from '../keys/index.js';
import type { EvaluationRecord, Question, RecordsByDataset } from '../policies/index.js';
import { createGroupCommit } from '../store/groupCommit.js';
import type { Store, SubjectFactsRow } from '../store/index.js';

export interface SubjectFacts {
  /** What `questions` read of the subject's current records: the evaluator's input for them, as the full records give it. */
  read(uscc: string, questions: readonly Question[]): Promise<RecordsByDataset>;
}

export interface SubjectFactsDependencies {
  readonly store: Pick<Store, 'subjectFacts' | 'putSubjectFacts'>;
  readonly keyring: DataKeyring;
  readonly blindIndexKey: BlindIndexKey;
  /** Every question the gateway answers: the facts keep every field one of them reads. */
  readonly questions: readonly Question[];
  /** The subject's current records in a dataset, opened, in the store's order (the evaluator's order). */
  readonly currentRecords: (dataset: string, subjectIndex: Uint8Array) => Promise<readonly EvaluationRecord[]>;
}

/** Fields in the kept order; a row is [asOf, value of each field or null where the record has none]. */
interface FactsPayload {
  readonly fields: readonly string[];
  readonly rows: readonly (readonly [string, ...(string | number | boolean | null)[]])[];
}

export function factsAssociatedData(dataset: string, subjectIndex: Uint8Array, generation: number): Buffer {
  return Buffer.from(`gateway/facts/v1\u001f${dataset}\u001f${Buffer.from(subjectIndex).toString('hex')}\u001f${generation}`, 'utf8');
}

/** The fields some question reads, by dataset, in a fixed order. */
export function keptFields(questions: readonly Question[]): ReadonlyMap<string, readonly string[]> {
  const fields = new Map<string, Set<string>>();
  for (const question of questions) {
    for (const dataset of question.datasets) if (!fields.has(dataset)) fields.set(dataset, new Set());
    for (const { dataset, fields: names } of question.program.reads) {
      const kept = fields.get(dataset) ?? new Set<string>();
      for (const name of names) kept.add(name);
      fields.set(dataset, kept);
    }
  }
  return new Map([...fields].map(([dataset, names]) => [dataset, [...names].sort()]));
}

/** The records as the evaluator sees them, cut down to `fields`. */
export function factsOf(records: readonly EvaluationRecord[], fields: readonly string[]): FactsPayload {
  return { fields, rows: records.map((record) => [record.asOf, ...fields.map((field) => record.values[field] ?? null)] as const) };
}

/** Back to evaluator records: a field a record did not have is absent again, as it was. */
export function recordsOfFacts(payload: FactsPayload): EvaluationRecord[] {
  return payload.rows.map(([asOf, ...values]) => {
    const kept: Record<string, string | number | boolean> = {};
    payload.fields.forEach((field, index) => {
      const value = values[index];
      if (value !== null && value !== undefined) kept[field] = value;
    });
    return { asOf, values: kept as NormalisedRecord };
  });
}

interface PendingRead {
  readonly subjectIndex: Buffer;
  readonly datasets: readonly string[];
  readonly resolve: (records: RecordsByDataset) => void;
  readonly reject: (error: unknown) => void;
}

export function createSubjectFacts(deps: SubjectFactsDependencies): SubjectFacts {
  const indexer = createBlindIndexer(deps.blindIndexKey);
  const fields = keptFields(deps.questions);
  // Facts derived by reads of one round share a transaction.
  const store = createGroupCommit(async (rows: readonly SubjectFactsRow[]) => {
    await deps.store.putSubjectFacts(dedupe(rows));
    return rows.map(() => undefined);
  }).add;
  let pending: PendingRead[] = [];

  function kept(dataset: string): readonly string[] {
    const names = fields.get(dataset);
    if (names === undefined) throw new GatewayError('internal_error', `no question the facts were set up for reads dataset ${dataset}`);
    return names;
  }

  /** The stored facts, or undefined when they keep other fields than the questions now read (the catalog changed). */
  async function open(row: SubjectFactsRow): Promise<EvaluationRecord[] | undefined> {
    const key = await deps.keyring.get(sealedKeyId(row.sealed));
    const plain = openRecord(() => key, factsAssociatedData(row.dataset, row.subjectIndex, row.generation), row.sealed);
    const payload = JSON.parse(plain.toString('utf8')) as FactsPayload;
    const names = kept(row.dataset);
    if (payload.fields.length !== names.length || payload.fields.some((name, index) => name !== names[index])) return undefined;
    return recordsOfFacts(payload);
  }

  async function derive(subjectIndex: Buffer, dataset: string, generation: number): Promise<EvaluationRecord[]> {
    const payload = factsOf(await deps.currentRecords(dataset, subjectIndex), kept(dataset));
    const sealed = sealRecord(deps.keyring.current(), factsAssociatedData(dataset, subjectIndex, generation), Buffer.from(JSON.stringify(payload), 'utf8'), randomBytes(12));
    await store({ subjectIndex, dataset, generation, sealed });
    return recordsOfFacts(payload);
  }

  async function serve(reads: readonly PendingRead[]): Promise<void> {
    const datasets = [...new Set(reads.flatMap((read) => read.datasets))];
    const { generations, facts } = await deps.store.subjectFacts(reads.map((read) => read.subjectIndex), datasets);
    const found = new Map(facts.map((row) => [`${Buffer.from(row.subjectIndex).toString('hex')}\u0000${row.dataset}`, row]));
    await Promise.all(reads.map(async (read) => {
      try {
        const subject = read.subjectIndex.toString('hex');
        const records: Record<string, EvaluationRecord[]> = {};
        await Promise.all(read.datasets.map(async (dataset) => {
          const row = found.get(`${subject}\u0000${dataset}`);
          records[dataset] = (row && await open(row)) ?? await derive(read.subjectIndex, dataset, generations[dataset] ?? 0);
        }));
        read.resolve(records);
      } catch (error) {
        read.reject(error);
      }
    }));
  }

  function flush(): void {
    const reads = pending;
    pending = [];
    serve(reads).catch((error: unknown) => {
      for (const read of reads) read.reject(error);
    });
  }

  return {
    async read(uscc, questions) {
      const datasets = [...new Set(questions.flatMap((question) => question.datasets))];
      for (const question of questions) {
        for (const { dataset, fields: names } of question.program.reads) {
          const have = kept(dataset);
          if (names.some((name) => !have.includes(name))) {
            throw new GatewayError('internal_error', `question ${question.id} reads fields the facts were not set up to keep`);
          }
        }
      }
      const subjectIndex = indexer.subject({ idType: 'uscc', idNumber: uscc });
      return new Promise<RecordsByDataset>((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ subjectIndex, datasets, resolve, reject });
      });
    },
  };
}

/** One row per subject and dataset, the latest generation's (a statement may not write one row twice). */
function dedupe(rows: readonly SubjectFactsRow[]): SubjectFactsRow[] {
  const latest = new Map<string, SubjectFactsRow>();
  for (const row of rows) {
    const key = `${Buffer.from(row.subjectIndex).toString('hex')}\u0000${row.dataset}`;
    const earlier = latest.get(key);
    if (!earlier || row.generation > earlier.generation) latest.set(key, row);
  }
  return [...latest.values()];
}
