/**
 * The question catalog: loads policies/questions/<id>.v<version>.json and policies/packs.json, validates each file
 * against its schema, checks every expression against the dataset schemas and compiles it, and refuses the whole
 * catalog, naming the file, at the first problem. The gateway should not start with a question it cannot answer
 * correctly, so nothing here is lenient.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadDatasetRegistry } from '../datasets/registry.js';
import type { DatasetRegistry } from '../datasets/registry.js';
import { GatewayError } from '../errors/index.js';
import { packageRoot } from '../paths.js';
import { isPurpose } from './definition.js';
import type { PackDefinition, PackFile, Purpose, QuestionDefinition } from './definition.js';
import { buildQuestion } from './question.js';
import type { Question } from './question.js';
import { compilePolicySchemas, readPolicyFile, schemaErrors, VERSIONED_FILE } from './schemas.js';

export const policiesDir = path.join(packageRoot, 'policies');


export interface QuestionPack {
  readonly id: string;
  readonly title: PackDefinition['title'];
  readonly description: PackDefinition['description'];
  readonly questions: readonly string[];
  readonly purposes: readonly Purpose[];
}

export interface QuestionCatalog {
  /** In id order. */
  readonly questions: readonly Question[];
  readonly packs: readonly QuestionPack[];
  /** Throws not_found for an id that is not in the catalog. */
  get(id: string): Question;
  has(id: string): boolean;
  /**
   * The question ids that a list of question ids and pack ids stands for (as a consent names them), in the order
   * first named, without repeats. Throws invalid_argument naming anything that is neither.
   */
  resolve(idsOrPacks: readonly string[]): string[];
  /** Whether the question may be asked for the purpose; false for an unknown question or purpose. */
  allowsPurpose(id: string, purpose: string): boolean;
  definitionHash(id: string): string;
  /** The packs a question belongs to. */
  packsOf(id: string): readonly string[];
}

function fail(file: string, message: string): never {
  throw new GatewayError('invalid_configuration', `${file}: ${message}`);
}

/**
 * Loads the catalog under `directory` (questions/ and packs.json). `registry` is the dataset registry the
 * expressions are checked against; the running gateway passes its own.
 */
export function loadQuestionCatalog(directory: string = policiesDir, registry: DatasetRegistry = loadDatasetRegistry()): QuestionCatalog {
  const validators = compilePolicySchemas();
  const questionsDir = path.join(directory, 'questions');
  if (!fs.existsSync(questionsDir)) fail(questionsDir, 'no questions directory');

  const byId = new Map<string, Question>();
  for (const name of fs.readdirSync(questionsDir).sort()) {
    const file = path.join(questionsDir, name);
    const match = VERSIONED_FILE.exec(name);
    if (!match) fail(file, 'a question file must be named <id>.v<version>.json');
    const parsed = readPolicyFile(file);
    if (!validators.question(parsed)) fail(file, schemaErrors(validators.question.errors));
    const definition = parsed as QuestionDefinition;
    if (definition.id !== match[1] || definition.version !== Number(match[2])) {
      fail(file, `defines ${definition.id} version ${definition.version}; the file must be named ${definition.id}.v${definition.version}.json`);
    }
    const existing = byId.get(definition.id);
    if (existing) fail(file, `question id "${definition.id}" is already defined by ${existing.file}`);
    byId.set(definition.id, buildQuestion(definition, registry, file));
  }
  if (byId.size === 0) fail(questionsDir, 'no questions');

  const packsFile = path.join(directory, 'packs.json');
  const parsedPacks = readPolicyFile(packsFile);
  if (!validators.packs(parsedPacks)) fail(packsFile, schemaErrors(validators.packs.errors));
  const packs = new Map<string, QuestionPack>();
  for (const pack of (parsedPacks as PackFile).packs) {
    if (packs.has(pack.id)) fail(packsFile, `pack "${pack.id}" is defined twice`);
    // A consent names packs and questions in one list, so the two must never be confused.
    if (byId.has(pack.id)) fail(packsFile, `pack "${pack.id}" has the id of a question`);
    for (const id of pack.questions) {
      const question = byId.get(id);
      if (!question) fail(packsFile, `pack "${pack.id}" names question "${id}", which is not in the catalog`);
      for (const purpose of pack.purposes ?? []) {
        if (!question.purposes.includes(purpose)) {
          fail(packsFile, `pack "${pack.id}" is meant for ${purpose}, which question "${id}" does not allow`);
        }
      }
    }
    packs.set(pack.id, {
      id: pack.id,
      title: pack.title,
      description: pack.description,
      questions: pack.questions,
      purposes: pack.purposes ?? [],
    });
  }

  const questions = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const packList = [...packs.values()];
  const get = (id: string): Question => {
    const question = byId.get(id);
    if (!question) throw new GatewayError('not_found', `no question "${id.slice(0, 64)}" in the catalog`);
    return question;
  };
  return {
    questions,
    packs: packList,
    get,
    has: (id) => byId.has(id),
    resolve(idsOrPacks) {
      const resolved = new Set<string>();
      for (const name of idsOrPacks) {
        const pack = packs.get(name);
        if (pack) pack.questions.forEach((id) => resolved.add(id));
        else if (byId.has(name)) resolved.add(name);
        else throw new GatewayError('invalid_argument', `"${name.slice(0, 64)}" is neither a question nor a pack`);
      }
      return [...resolved];
    },
    allowsPurpose(id, purpose) {
      const question = byId.get(id);
      return question !== undefined && isPurpose(purpose) && question.purposes.includes(purpose);
    },
    definitionHash: (id) => get(id).definitionHash,
    packsOf: (id) => packList.filter((pack) => pack.questions.includes(id)).map((pack) => pack.id),
  };
}
