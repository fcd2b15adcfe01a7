/** Subject facts on SQLite (migration 0019; contract in ../factsStore.ts). */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { FactsStore, SubjectFactsRow } from '../factsStore.js';
import type { Synchronous } from './serial.js';

export function factsStore(db: SqliteDatabase): Synchronous<FactsStore> {
  const statements = {
    generation: db.prepare('SELECT dataset_no, generation FROM datasets WHERE dataset = ?'),
    facts: db.prepare('SELECT sealed FROM subject_facts WHERE subject_index = ? AND dataset_no = ? AND generation = ?').pluck(),
    put: db.prepare(`INSERT INTO subject_facts (subject_index, dataset_no, generation, sealed)
      SELECT @subject, dataset_no, @generation, @sealed FROM datasets WHERE dataset = @dataset
      ON CONFLICT (subject_index, dataset_no) DO UPDATE SET generation = excluded.generation, sealed = excluded.sealed
      WHERE excluded.generation > subject_facts.generation`),
  };
  return {
    subjectFacts: (subjectIndexes, datasets) => db.transaction(() => {
      const generations: Record<string, number> = {};
      const facts: SubjectFactsRow[] = [];
      for (const dataset of datasets) {
        const stored = statements.generation.get(dataset) as { dataset_no: number; generation: number } | undefined;
        const generation = stored?.generation ?? 0;
        generations[dataset] = generation;
        if (stored === undefined) continue;
        for (const subjectIndex of subjectIndexes) {
          const sealed = statements.facts.get(subjectIndex, stored.dataset_no, generation) as Buffer | undefined;
          if (sealed !== undefined) facts.push({ subjectIndex, dataset, generation, sealed });
        }
      }
      return { generations, facts };
    }).deferred(),
    putSubjectFacts: (rows) => db.transaction(() => {
      for (const row of rows) statements.put.run({ subject: row.subjectIndex, generation: row.generation, sealed: row.sealed, dataset: row.dataset });
    }).immediate(),
  };
}
