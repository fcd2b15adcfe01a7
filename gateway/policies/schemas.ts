/**
 * The policy schemas (schemas/policy.schema.json, schemas/question-pack.schema.json,
 * schemas/report-template.schema.json, schemas/misuse-policy.schema.json,
 * schemas/support-policy.schema.json, schemas/retention-policy.schema.json), compiled once per process (about 190 ms; every policy loader shares them), the
 * reading of policy files, and ajv errors turned into one readable line that names the member at fault.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { GatewayError } from '../errors/index.js';
import { schemasDir } from '../paths.js';

const POLICY_ID = 'https://gateway.invalid/schemas/policy.v1.json';
const PACKS_ID = 'https://gateway.invalid/schemas/question-pack.v1.json';
const REPORT_TEMPLATE_ID = 'https://gateway.invalid/schemas/report-template.v1.json';
const MISUSE_ID = 'https://gateway.invalid/schemas/misuse-policy.v1.json';
const SUPPORT_ID = 'https://gateway.invalid/schemas/support-policy.v1.json';
const RETENTION_ID = 'https://gateway.invalid/schemas/retention-policy.v1.json';

export interface PolicyValidators {
  readonly question: ValidateFunction;
  readonly packs: ValidateFunction;
  readonly fixtures: ValidateFunction;
  readonly reportTemplate: ValidateFunction;
  readonly misuse: ValidateFunction;
  readonly support: ValidateFunction;
  readonly retention: ValidateFunction;
}

/** How a versioned policy file is named: <id>.v<version>.json (questions, report templates, support policies). */
export const VERSIONED_FILE = /^([a-z][a-z0-9_]{0,63})\.v([1-9][0-9]*)\.json$/;

/** A policy data file parsed, or invalid_configuration naming the file. */
export function readPolicyFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new GatewayError('invalid_configuration', `${file}: cannot be read`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GatewayError('invalid_configuration', `${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

function readSchema(file: string): object {
  return JSON.parse(fs.readFileSync(path.join(schemasDir, file), 'utf8')) as object;
}

let compiled: PolicyValidators | undefined;

export function compilePolicySchemas(): PolicyValidators {
  return compiled ??= compileSchemas();
}

function compileSchemas(): PolicyValidators {
  // `discriminator` lets ajv report the one branch an `op` selects instead of every branch of a oneOf.
  const ajv = new Ajv2020({ strict: true, allErrors: true, discriminator: true, allowUnionTypes: true });
  // ajv-formats is CommonJS; its default export is the plugin function.
  const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;
  addFormats(ajv);
  ajv.addSchema(readSchema('policy.schema.json'));
  ajv.addSchema(readSchema('question-pack.schema.json'));
  ajv.addSchema(readSchema('report-template.schema.json'));
  ajv.addSchema(readSchema('misuse-policy.schema.json'));
  ajv.addSchema(readSchema('support-policy.schema.json'));
  ajv.addSchema(readSchema('retention-policy.schema.json'));
  const get = (id: string): ValidateFunction => {
    const validate = ajv.getSchema(id);
    if (!validate) throw new GatewayError('internal_error', `schema ${id} is not loaded`);
    return validate;
  };
  return { question: get(POLICY_ID), packs: get(PACKS_ID), fixtures: get(`${POLICY_ID}#/$defs/fixture_file`), reportTemplate: get(REPORT_TEMPLATE_ID),
    misuse: get(MISUSE_ID), support: get(SUPPORT_ID), retention: get(RETENTION_ID) };
}

function describe(error: ErrorObject): string {
  const at = error.instancePath === '' ? '(top level)' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return `${at}: unknown member "${String(params['additionalProperty'])}"`;
  if (error.keyword === 'discriminator') return `${at}: unknown ${String(params['tag'])} "${String(params['tagValue'])}"`;
  return `${at}: ${error.message ?? error.keyword}`;
}

/** The errors of a failed validation as one line; a oneOf failure is reported once, not once per branch. */
export function schemaErrors(errors: readonly ErrorObject[] | null | undefined): string {
  const all = errors ?? [];
  const oneOfPaths = new Set(all.filter((error) => error.keyword === 'oneOf').map((error) => error.instancePath));
  const shown = all.filter((error) =>
    // `if` only says which branch failed; the branch's own errors follow.
    error.keyword !== 'if' && (error.keyword === 'oneOf' || !oneOfPaths.has(error.instancePath)));
  const lines = [...new Set(shown.map(describe))];
  return lines.length > 5 ? `${lines.slice(0, 5).join('; ')}; … (${lines.length - 5} more)` : lines.join('; ');
}
