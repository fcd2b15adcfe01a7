/**
 * A loaded question: its definition exactly as written, the SHA-256 of that definition's RFC 8785 (JCS) canonical
 * form, and its compiled program. The hash covers every member, titles included, so any edit to a file shows in
 * the answers it gives, whether or not the author remembered to raise the version.
 */
import canonicalize from 'canonicalize';
import { sha256Hex } from '../crypto/index.js';
import type { DatasetId, DatasetRegistry } from '../datasets/registry.js';
import { GatewayError } from '../errors/index.js';
import { compileQuestion } from './compile.js';
import type { Program } from './compile.js';
import type { AnswerSpec, Literal, LocalText, Purpose, QuestionDefinition } from './definition.js';

/** What identifies the definition behind an answer. */
export interface QuestionRef {
  readonly id: string;
  readonly version: number;
  readonly definitionHash: string;
}

export interface Question {
  readonly id: string;
  readonly version: number;
  readonly title: LocalText;
  readonly description: LocalText;
  readonly datasets: readonly DatasetId[];
  readonly knownIfRecordsIn: readonly DatasetId[];
  readonly parameters: Readonly<Record<string, Literal>>;
  readonly answer: AnswerSpec;
  readonly purposes: readonly Purpose[];
  readonly maxAgeDays: number;
  /** The parsed file, frozen: what was hashed. */
  readonly definition: QuestionDefinition;
  readonly definitionHash: string;
  readonly ref: QuestionRef;
  readonly file: string;
  readonly program: Program;
}

/** SHA-256 (hex) of the definition's JCS canonical JSON: independent of key order and whitespace in the file. */
export function hashDefinition(definition: QuestionDefinition): string {
  const text = canonicalize(definition);
  if (text === undefined) throw new GatewayError('internal_error', `question ${definition.id} could not be canonicalised`);
  return sha256Hex(text);
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

/** Checks and compiles a schema-valid definition; throws invalid_configuration naming `file`. */
export function buildQuestion(parsed: QuestionDefinition, registry: DatasetRegistry, file: string): Question {
  const definition = deepFreeze(parsed);
  const program = compileQuestion(definition, registry, file);
  const definitionHash = hashDefinition(definition);
  return {
    id: definition.id,
    version: definition.version,
    title: definition.title,
    description: definition.description,
    // compileQuestion has checked every id against the registry.
    datasets: definition.datasets as readonly DatasetId[],
    knownIfRecordsIn: definition.known_if_records_in as readonly DatasetId[],
    parameters: definition.parameters,
    answer: definition.answer,
    purposes: definition.purposes,
    maxAgeDays: definition.freshness.max_age_days,
    definition,
    definitionHash,
    ref: Object.freeze({ id: definition.id, version: definition.version, definitionHash }),
    file,
    program,
  };
}
