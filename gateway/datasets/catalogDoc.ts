/** Renders docs/data-catalog.md from the dataset schemas, so the document cannot drift from what is enforced. */
import type { DatasetDefinition, DatasetRegistry } from './registry.js';

const KIND_NAMES: Record<string, string> = {
  name: 'text (1–200)',
  text: 'text (1–500)',
  code: 'code',
  code_list: 'codes separated by `;`',
  uscc: 'USCC (check character verified)',
  id_type: '`uscc` \\| `resident_id`',
  id_number: 'ID number (checked against its type)',
  yuan: 'yuan, ≤ 2 decimals → stored as integer fen',
  flag: 'yes/no (`true/false`, `是/否`, `1/0`)',
  month: 'month `YYYY-MM`',
  date: 'date `YYYY-MM-DD`',
  count: 'integer ≥ 0',
  rate: 'decimal fraction, −1 … 100',
  quantity: 'decimal ≥ 0',
};

function typeOf(kind: string, enumValues: readonly string[] | undefined): string {
  if (enumValues) return `one of ${enumValues.map((value) => `\`${value}\``).join(', ')}`;
  return KIND_NAMES[kind] ?? kind;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function addedKeyFields(dataset: DatasetDefinition): string {
  return dataset.naturalKey.filter((name) => dataset.fields.find((field) => field.name === name)?.added).map((name) => `\`${name}\``).join(' or ');
}

function datasetSection(dataset: DatasetDefinition): string {
  const subject = 'idType' in dataset.subject
    ? `USCC in \`${dataset.subject.idNumberField}\``
    : `\`${dataset.subject.idTypeField}\` + \`${dataset.subject.idNumberField}\``;
  const lines = [
    `## ${dataset.catalog} \`${dataset.id}\` — ${dataset.titleZh}`,
    '',
    dataset.description,
    '',
    `- **Source:** ${dataset.source.zh} (${dataset.source.en})`,
    `- **Row:** ${dataset.row}`,
    `- **Natural key:** ${dataset.naturalKey.map((field) => `\`${field}\``).join(' + ')}`,
    ...(dataset.catalogKey
      ? [`- **Natural key of a row without ${addedKeyFields(dataset)}** (a source sending the catalog's columns only): ${dataset.catalogKey.map((field) => `\`${field}\``).join(' + ')}`]
      : []),
    `- **Subject:** ${subject}${dataset.subjectOptional ? '; a row without it is stored but linked to no subject, so no question about anyone reads it' : ''}`,
    `- **Schema:** \`schemas/datasets/${dataset.schemaFile}\` (version ${dataset.version})`,
    '',
    '| field | 字段 | type | required | description |',
    '|---|---|---|---|---|',
    ...dataset.fields.map((field) => {
      const absent = field.unknownIfAbsent ? ' A question that reads it answers `unknown` for a subject with a row without it.' : '';
      const description = field.added ? `${field.description} *Added (not in the catalog, optional): ${field.added}*${absent}` : field.description;
      return `| \`${field.name}\` | ${cell(field.titleZh)} | ${cell(typeOf(field.kind, field.enumValues))} | ${field.required ? 'yes' : ''} | ${cell(description)} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

export function renderDataCatalog(registry: DatasetRegistry): string {
  return [
    '# Data catalog',
    '',
    '<!-- Generated from schemas/datasets/ by `npx gateway datasets doc > docs/data-catalog.md`; a test fails if it differs. -->',
    '',
    'The twelve datasets the gateway ingests, one JSON Schema (draft 2020-12) each. CSV headers may use the English',
    'field names or the Chinese names (字段). An empty CSV cell is an absent field. Every value below is sealed',
    '(AES-256-GCM, or SM4-GCM under the 国密 profile: [crypto-profiles.md](crypto-profiles.md)) at rest; subjects and natural keys are stored only as keyed blind indexes.',
    '',
    'A batch with exactly the columns of the plan\'s sharing list (信用信息归集共享清单) is accepted for every dataset. Fields',
    'marked *Added* are not in that list: the gateway adds them where a row needs them (an account number, a grant date),',
    'and they are always optional. Where the natural key uses one, a row without it is keyed by the catalog fields given',
    'for that dataset, and a question that needs such a field answers `unknown` rather than guessing.',
    '',
    '| | dataset | 数据集 | source | row | natural key |',
    '|---|---|---|---|---|---|',
    ...registry.datasets.map((dataset) =>
      `| ${dataset.catalog} | \`${dataset.id}\` | ${dataset.titleZh} | ${cell(dataset.source.zh)} | ${cell(dataset.row.split(':')[0]!.split('.')[0]!)} | ${dataset.naturalKey.join(' + ')} |`),
    '',
    ...registry.datasets.map(datasetSection),
  ].join('\n');
}
