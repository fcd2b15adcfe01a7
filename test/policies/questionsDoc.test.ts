// docs/questions.md lists exactly the questions and packs of policies/.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { loadDatasetRegistry } from '../../gateway/datasets/registry.js';
import { packageRoot } from '../../gateway/paths.js';
import { loadQuestionCatalog, renderQuestionTables, renderQuestionsDoc } from '../../gateway/policies/index.js';

describe('docs/questions.md', () => {
  const registry = loadDatasetRegistry();
  const catalog = loadQuestionCatalog(undefined, registry);
  const committed = fs.readFileSync(path.join(packageRoot, 'docs', 'questions.md'), 'utf8');

  it('has the tables the catalog generates (regenerate with the command in its "The catalog" section)', () => {
    expect(committed).to.equal(renderQuestionsDoc(committed, catalog, registry));
  });

  it('lists every question with its version and both titles, and every pack', () => {
    const tables = renderQuestionTables(catalog, registry);
    for (const question of catalog.questions) {
      expect(tables).to.contain(`| \`${question.id}\` | ${question.version} | ${question.title.zh} | ${question.title.en} |`);
    }
    for (const pack of catalog.packs) expect(tables).to.contain(`| \`${pack.id}\` | ${pack.title.zh} |`);
  });
});
