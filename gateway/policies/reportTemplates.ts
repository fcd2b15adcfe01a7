/**
 * Credit report templates: loads policies/reports/<id>.v<version>.json, validates each against
 * schemas/report-template.schema.json, checks that every question it names is in the catalog and allows the
 * template's stage, and hashes the file (SHA-256 of its RFC 8785 canonical form) the way questions are hashed, so a
 * report names exactly the template it was made from. Like the question catalog, it refuses the whole set, naming
 * the file, at the first problem.
 */
import fs from 'node:fs';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { QuestionCatalog } from './catalog.js';
import { policiesDir } from './catalog.js';
import type { LocalText, Purpose } from './definition.js';
import { deepFreeze } from './question.js';
import type { Question } from './question.js';
import { compilePolicySchemas, readPolicyFile, schemaErrors, VERSIONED_FILE } from './schemas.js';


/** One template file, exactly as written (and hashed). */
export interface ReportTemplateDefinition {
  readonly id: string;
  readonly version: number;
  readonly stage: Purpose;
  readonly title: LocalText;
  readonly description: LocalText;
  readonly sections: ReadonlyArray<{ readonly heading: LocalText; readonly questions: readonly string[] }>;
}

export interface ReportSection {
  readonly heading: LocalText;
  readonly questions: readonly Question[];
}

export interface ReportTemplate {
  readonly id: string;
  readonly version: number;
  readonly stage: Purpose;
  readonly title: LocalText;
  readonly description: LocalText;
  readonly sections: readonly ReportSection[];
  /** Every question of the template, in report order. */
  readonly questions: readonly Question[];
  readonly definition: ReportTemplateDefinition;
  readonly definitionHash: string;
  readonly file: string;
}

export interface ReportTemplates {
  /** In id order. */
  readonly templates: readonly ReportTemplate[];
  /** Throws not_found for an id that is not a template. */
  get(id: string): ReportTemplate;
}

function fail(file: string, message: string): never {
  throw new GatewayError('invalid_configuration', `${file}: ${message}`);
}

/** SHA-256 (hex) of the template's JCS canonical JSON: independent of key order and whitespace in the file. */
export function hashTemplate(definition: ReportTemplateDefinition): string {
  const text = canonicalize(definition);
  if (text === undefined) throw new GatewayError('internal_error', `report template ${definition.id} could not be canonicalised`);
  return sha256Hex(text);
}

/** Checks one schema-valid template against the catalog; throws invalid_configuration naming `file`. */
export function buildTemplate(definition: ReportTemplateDefinition, catalog: QuestionCatalog, file: string): ReportTemplate {
  const seen = new Set<string>();
  const sections = definition.sections.map((section): ReportSection => ({
    heading: section.heading,
    questions: section.questions.map((id) => {
      if (seen.has(id)) fail(file, `question "${id}" appears twice; a report answers each question once`);
      seen.add(id);
      if (!catalog.has(id)) fail(file, `names question "${id}", which is not in the catalog`);
      if (!catalog.allowsPurpose(id, definition.stage)) fail(file, `question "${id}" does not allow the stage ${definition.stage}`);
      return catalog.get(id);
    }),
  }));
  return {
    id: definition.id,
    version: definition.version,
    stage: definition.stage,
    title: definition.title,
    description: definition.description,
    sections,
    questions: sections.flatMap((section) => section.questions),
    definition,
    definitionHash: hashTemplate(definition),
    file,
  };
}

/** Loads every template under `directory`/reports, checked against `catalog`. */
export function loadReportTemplates(catalog: QuestionCatalog, directory: string = policiesDir): ReportTemplates {
  const validate = compilePolicySchemas().reportTemplate;
  const reportsDir = path.join(directory, 'reports');
  if (!fs.existsSync(reportsDir)) fail(reportsDir, 'no reports directory');
  const byId = new Map<string, ReportTemplate>();
  for (const name of fs.readdirSync(reportsDir).sort()) {
    const file = path.join(reportsDir, name);
    const match = VERSIONED_FILE.exec(name);
    if (!match) fail(file, 'a report template file must be named <id>.v<version>.json');
    const parsed = readPolicyFile(file);
    if (!validate(parsed)) fail(file, schemaErrors(validate.errors));
    const definition = deepFreeze(parsed as ReportTemplateDefinition);
    if (definition.id !== match[1] || definition.version !== Number(match[2])) {
      fail(file, `defines ${definition.id} version ${definition.version}; the file must be named ${definition.id}.v${definition.version}.json`);
    }
    const existing = byId.get(definition.id);
    if (existing) fail(file, `report template "${definition.id}" is already defined by ${existing.file}`);
    byId.set(definition.id, buildTemplate(definition, catalog, file));
  }
  if (byId.size === 0) fail(reportsDir, 'no report templates');
  const templates = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    templates,
    get(id) {
      const template = byId.get(id);
      if (!template) throw new GatewayError('not_found', `no report template "${id.slice(0, 64)}"`);
      return template;
    },
  };
}
