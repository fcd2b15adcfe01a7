/**
 * Support policies (policies/support/<id>.v<version>.json): who is eligible for a subsidy or discounted loan, as
 * conditions on answers to the catalog's questions — so eligibility is computed from the same derived facts a bank
 * may ask about, and never from a raw value. Schema-checked with ajv, checked against the catalog (every question
 * exists, every listed answer is one it can give), versioned and hashed; the loader refuses the whole directory,
 * naming the file, at the first problem.
 */
import fs from 'node:fs';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import { policiesDir } from '../policies/index.js';
import type { Answer, LocalText, QuestionCatalog } from '../policies/index.js';
import { compilePolicySchemas, readPolicyFile, schemaErrors, VERSIONED_FILE } from '../policies/schemas.js';

export interface SupportCondition {
  readonly question: string;
  readonly answers: readonly Answer[];
}

export interface SupportPolicy {
  readonly id: string;
  readonly version: number;
  readonly title: LocalText;
  readonly department: LocalText;
  readonly description: LocalText;
  /** Participants of the owning department, who may read aggregate counts. */
  readonly owners: readonly string[];
  readonly conditions: readonly SupportCondition[];
  /** SHA-256 of the file's RFC 8785 canonical form, hex. */
  readonly definitionHash: string;
}

export interface SupportPolicies {
  readonly policies: readonly SupportPolicy[];
  /** Throws not_found for an id that is not a policy. */
  get(id: string): SupportPolicy;
}


interface Definition {
  id: string; version: number; title: LocalText; department: LocalText; description: LocalText; owners: string[];
  eligibility: { all: SupportCondition[] };
}

export function loadSupportPolicies(catalog: QuestionCatalog, directory: string = path.join(policiesDir, 'support')): SupportPolicies {
  const fail = (file: string, message: string): never => {
    throw new GatewayError('invalid_configuration', `${file}: ${message}`);
  };
  const validate = compilePolicySchemas().support;
  const byId = new Map<string, SupportPolicy>();
  if (!fs.existsSync(directory)) fail(directory, 'no support policies directory');
  for (const name of fs.readdirSync(directory).sort()) {
    const file = path.join(directory, name);
    const match = VERSIONED_FILE.exec(name);
    if (!match) fail(file, 'a support policy file must be named <id>.v<version>.json');
    const parsed = readPolicyFile(file);
    if (!validate(parsed)) fail(file, schemaErrors(validate.errors));
    const definition = parsed as Definition;
    if (definition.id !== match?.[1] || definition.version !== Number(match[2])) {
      fail(file, `defines ${definition.id} version ${definition.version}; the file must be named ${definition.id}.v${definition.version}.json`);
    }
    if (byId.has(definition.id)) fail(file, `support policy "${definition.id}" is defined twice`);
    for (const condition of definition.eligibility.all) {
      if (!catalog.has(condition.question)) fail(file, `names no question of the catalog: "${condition.question}"`);
      const answer = catalog.get(condition.question).answer;
      const possible: readonly Answer[] = answer.type === 'band' ? answer.values.map(String) : [true, false];
      const impossible = condition.answers.find((given) => !possible.includes(given));
      if (impossible !== undefined) fail(file, `"${String(impossible)}" is not an answer of ${condition.question}`);
    }
    byId.set(definition.id, {
      id: definition.id, version: definition.version, title: definition.title, department: definition.department,
      description: definition.description, owners: definition.owners, conditions: definition.eligibility.all,
      definitionHash: sha256Hex(canonicalize(definition) as string),
    });
  }
  return {
    policies: [...byId.values()],
    get(id) {
      const policy = byId.get(id);
      if (!policy) throw new GatewayError('not_found', `no support policy "${id.slice(0, 64)}"`);
      return policy;
    },
  };
}
