/**
 * The misuse rules (policies/misuse.json): schema-checked with ajv (schemas/misuse-policy.schema.json) and hashed like
 * the other policy files, so a flag names exactly the rules that raised it. The loader refuses the whole file, naming
 * it, at the first problem.
 */
import canonicalize from 'canonicalize';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { LocalText, Severity } from '../policies/index.js';
import { compilePolicySchemas, readPolicyFile, schemaErrors } from '../policies/schemas.js';

interface RuleBase {
  readonly id: string;
  readonly severity: Severity;
  /** Whether a flag suspends the bank, when automatic suspension is enabled. */
  readonly suspend: boolean;
  readonly title: LocalText;
}

export type MisuseRule = RuleBase & (
  | { readonly kind: 'subjects_without_loan_reference'; readonly max_subjects: number }
  | { readonly kind: 'refusal_rate'; readonly min_items: number; readonly max_rate: number }
  | { readonly kind: 'off_hours_volume'; readonly from_hour: number; readonly to_hour: number; readonly max_questions: number }
  | { readonly kind: 'consent_churn'; readonly max_revoked: number }
  | { readonly kind: 'repeated_list'; readonly min_list_size: number; readonly max_repeats: number }
);

export interface MisusePolicy {
  readonly version: number;
  readonly windowHours: number;
  readonly rules: readonly MisuseRule[];
  /** SHA-256 of the file's RFC 8785 canonical form, hex. */
  readonly sha256: string;
}

/** `file` is GATEWAY_MISUSE_POLICY, policies/misuse.json by default (config.ts). */
export function loadMisusePolicy(file: string): MisusePolicy {
  const parsed = readPolicyFile(file);
  const validate = compilePolicySchemas().misuse;
  if (!validate(parsed)) throw new GatewayError('invalid_configuration', `${file}: ${schemaErrors(validate.errors)}`);
  const definition = parsed as { version: number; window_hours: number; rules: MisuseRule[] };
  const ids = new Set<string>();
  for (const rule of definition.rules) {
    if (ids.has(rule.id)) throw new GatewayError('invalid_configuration', `${file}: rule id "${rule.id}" is used twice`);
    ids.add(rule.id);
    if (rule.kind === 'off_hours_volume' && rule.from_hour === rule.to_hour) {
      throw new GatewayError('invalid_configuration', `${file}: rule "${rule.id}": from_hour and to_hour must differ`);
    }
  }
  const text = canonicalize(definition) as string;
  return { version: definition.version, windowHours: definition.window_hours, rules: definition.rules, sha256: sha256Hex(text) };
}
