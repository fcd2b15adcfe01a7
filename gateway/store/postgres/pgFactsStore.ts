/** Subject facts on PostgreSQL (migration 0005; contract in ../factsStore.ts). */
import type { FactsStore, SubjectFactsRow } from '../factsStore.js';
import { bytes } from './pgDatabase.js';
import type { Database } from './pgDatabase.js';

export function factsStore(db: Database): FactsStore {
  return {
    async subjectFacts(subjectIndexes, datasets) {
      // One statement, so the generations and the facts come from one snapshot.
      const { rows } = await db.query<{ dataset: string; generation: number; subject_index: Buffer | null; sealed: Buffer | null }>(`
        SELECT d.dataset, d.generation, f.subject_index, f.sealed
        FROM datasets d LEFT JOIN subject_facts f
          ON f.dataset_no = d.dataset_no AND f.generation = d.generation AND f.subject_index = ANY($2::bytea[])
        WHERE d.dataset = ANY($1::text[])`, [datasets, subjectIndexes.map(bytes)]);
      const generations: Record<string, number> = Object.fromEntries(datasets.map((dataset) => [dataset, 0]));
      const facts: SubjectFactsRow[] = [];
      for (const row of rows) {
        generations[row.dataset] = row.generation;
        if (row.subject_index !== null && row.sealed !== null) {
          facts.push({ subjectIndex: row.subject_index, dataset: row.dataset, generation: row.generation, sealed: row.sealed });
        }
      }
      return { generations, facts };
    },
    async putSubjectFacts(rows) {
      if (rows.length === 0) return;
      await db.query(`INSERT INTO subject_facts (subject_index, dataset_no, generation, sealed)
        SELECT u.s, d.dataset_no, u.g, u.f FROM unnest($1::bytea[], $2::text[], $3::bigint[], $4::bytea[]) AS u (s, ds, g, f)
        JOIN datasets d ON d.dataset = u.ds
        ON CONFLICT (subject_index, dataset_no) DO UPDATE SET generation = excluded.generation, sealed = excluded.sealed
        WHERE excluded.generation > subject_facts.generation`, [
        rows.map((row) => bytes(row.subjectIndex)), rows.map((row) => row.dataset), rows.map((row) => row.generation), rows.map((row) => bytes(row.sealed)),
      ]);
    },
  };
}
