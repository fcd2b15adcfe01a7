/** `gateway questions`: the question catalog of policies/ — list it, and regenerate docs/questions.md from it. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadDatasetRegistry } from '../../datasets/registry.js';
import { packageRoot } from '../../paths.js';
import { loadQuestionCatalog, renderQuestionsDoc } from '../../policies/index.js';
import { guarded, report } from '../output.js';

export function registerQuestions(questions: Command): void {
  questions
    .command('list')
    .description('list the questions and packs, with versions, purposes and definition hashes')
    .option('--json', 'print as JSON', false)
    .action(guarded((options: { json: boolean }) => {
      const catalog = loadQuestionCatalog();
      const rows = catalog.questions.map((question) => ({
        id: question.id, version: question.version, title_zh: question.title.zh, title_en: question.title.en,
        datasets: question.datasets, purposes: question.purposes, packs: catalog.packsOf(question.id), definition_hash: question.definitionHash,
      }));
      const packs = catalog.packs.map((pack) => ({ id: pack.id, title_zh: pack.title.zh, purposes: pack.purposes, questions: pack.questions }));
      report(options, { questions: rows, packs }, () => [
        ...rows.flatMap((row) => [
          `${row.id} v${row.version}  ${row.title_zh}`,
          `    purposes: ${row.purposes.join(', ')}`,
          `    packs: ${row.packs.join(', ') || '(none)'}`,
          `    definition hash: ${row.definition_hash}`,
        ]),
        '',
        'packs (a consent may name a pack for all its questions):',
        ...packs.map((pack) => `  ${pack.id} (${pack.questions.length} questions, ${pack.title_zh}): ${pack.questions.join(', ')}`),
      ].join('\n'));
    }));
  questions
    .command('doc')
    .description('rewrite the generated tables of docs/questions.md from policies/')
    .action(guarded(() => {
      const registry = loadDatasetRegistry();
      const file = path.join(packageRoot, 'docs', 'questions.md');
      fs.writeFileSync(file, renderQuestionsDoc(fs.readFileSync(file, 'utf8'), loadQuestionCatalog(undefined, registry), registry));
      process.stdout.write(`rewrote ${file}\n`);
    }));
}
