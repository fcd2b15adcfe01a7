/**
 * Renders the question and pack tables of docs/questions.md from the loaded catalog, so the list a bank or an
 * auditor reads cannot drift from what the gateway answers. The prose around the tables is written by hand; only
 * the part between the two markers is generated, and a test fails when it differs.
 */
import type { DatasetRegistry } from '../datasets/registry.js';
import { GatewayError } from '../errors/index.js';
import type { QuestionCatalog } from './catalog.js';
import { PURPOSES } from './definition.js';
import type { Literal } from './definition.js';
import type { Question } from './question.js';

export const TABLES_BEGIN = '<!-- BEGIN question tables: generated from policies/ by renderQuestionsDoc; a test fails if they differ -->';
export const TABLES_END = '<!-- END question tables -->';

const PURPOSE_HEADINGS: Record<(typeof PURPOSES)[number], string> = {
  customer_screening: 'screen',
  pre_loan_investigation: 'pre-loan',
  loan_approval: 'approve',
  post_loan_management: 'post-loan',
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function parameters(values: Readonly<Record<string, Literal>>): string {
  return Object.entries(values).map(([name, value]) => `\`${name}\`=${String(value)}`).join(', ');
}

function answers(question: Question): string {
  return question.answer.type === 'boolean' ? 'yes / no' : question.answer.values.map((value) => `\`${value}\``).join(' · ');
}

export function renderQuestionTables(catalog: QuestionCatalog, registry: DatasetRegistry): string {
  const catalogCode = new Map(registry.datasets.map((dataset) => [dataset.id as string, dataset.catalog]));
  const code = (id: string): string => catalogCode.get(id) ?? id;
  // Grouped by the data-catalog position of the first dataset each question reads, then by id.
  const questions = [...catalog.questions].sort((a, b) =>
    code(a.datasets[0]!).localeCompare(code(b.datasets[0]!)) || a.id.localeCompare(b.id));
  return [
    TABLES_BEGIN,
    '',
    `### Questions (${catalog.questions.length})`,
    '',
    'Datasets by their number in [data-catalog.md](data-catalog.md); ✓ marks the purposes a consent may use the question for;',
    '*fresh* is the freshness bound in days.',
    '',
    `| question | v | 问题 | question (en) | datasets | answer | ${PURPOSES.map((purpose) => PURPOSE_HEADINGS[purpose]).join(' | ')} | fresh | parameters | packs |`,
    `|---|---|---|---|---|---|${PURPOSES.map(() => '---|').join('')}---|---|---|`,
    ...questions.map((question) => [
      `\`${question.id}\``,
      String(question.version),
      cell(question.title.zh),
      cell(question.title.en),
      question.datasets.map(code).join(', '),
      answers(question),
      ...PURPOSES.map((purpose) => (question.purposes.includes(purpose) ? '✓' : '')),
      String(question.maxAgeDays),
      parameters(question.parameters),
      catalog.packsOf(question.id).map((pack) => `\`${pack}\``).join(', '),
    ].join(' | ')).map((row) => `| ${row} |`),
    '',
    `### Packs (${catalog.packs.length})`,
    '',
    '| pack | 名称 | title | questions | every question allows |',
    '|---|---|---|---|---|',
    ...catalog.packs.map((pack) =>
      `| \`${pack.id}\` | ${cell(pack.title.zh)} | ${cell(pack.title.en)} | ${pack.questions.length} | ${pack.purposes.join(', ')} |`),
    '',
    TABLES_END,
  ].join('\n');
}

/** `markdown` with the text between the table markers replaced by freshly rendered tables. */
export function renderQuestionsDoc(markdown: string, catalog: QuestionCatalog, registry: DatasetRegistry): string {
  const begin = markdown.indexOf(TABLES_BEGIN);
  const end = markdown.indexOf(TABLES_END);
  if (begin < 0 || end < begin) throw new GatewayError('invalid_argument', 'the document has no question-table markers');
  return markdown.slice(0, begin) + renderQuestionTables(catalog, registry) + markdown.slice(end + TABLES_END.length);
}
