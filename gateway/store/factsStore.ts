/**
 * Subject facts (gateway/records/subjectFacts.ts): per subject and dataset, the fields the questions read of its
 * current records, sealed in one small row, so that answering an item reads one row instead of every record.
 *
 * Contract: each dataset has a generation, which changes in the same transaction as anything that changes the
 * dataset's current records (a batch committing, a batch purged); facts are stored under the generation they were
 * derived at and read back only while it is still the dataset's, so a fact is never served once its records have
 * changed. Storing facts never replaces ones of a later generation. Purging a batch deletes its dataset's facts,
 * and destroying a data key deletes the facts sealed under it, with the same erasure as the records.
 */

export interface SubjectFactsRow {
  readonly subjectIndex: Uint8Array;
  readonly dataset: string;
  readonly generation: number;
  readonly sealed: Uint8Array;
}

export interface SubjectFactsRead {
  /** The current generation of each dataset asked for (0 for one no batch has committed to). */
  readonly generations: Readonly<Record<string, number>>;
  /** The stored facts of those subjects and datasets that are of the current generation, read with it. */
  readonly facts: readonly SubjectFactsRow[];
}

export interface FactsStore {
  subjectFacts(subjectIndexes: readonly Uint8Array[], datasets: readonly string[]): Promise<SubjectFactsRead>;
  /** Stores facts (one transaction), except where facts of a later generation are already stored. */
  putSubjectFacts(rows: readonly SubjectFactsRow[]): Promise<void>;
}
