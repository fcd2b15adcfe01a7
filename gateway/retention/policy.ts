/**
 * The retention schedule (policies/retention.json, docs/retention.md): schema-checked with ajv
 * (schemas/retention-policy.schema.json) and hashed like the other policy files, so a purge entry names exactly the
 * schedule that ordered it. The loader refuses the whole file, naming it, at the first problem.
 */
import canonicalize from 'canonicalize';
import { sha256Hex } from '../crypto/index.js';
import { datasetIds } from '../datasets/registry.js';
import { GatewayError } from '../errors/index.js';
import { compilePolicySchemas, readPolicyFile, schemaErrors } from '../policies/schemas.js';

export interface RetentionPolicy {
  readonly version: number;
  /** Years consents and audit entries are kept at least (the schema refuses fewer than 5). */
  readonly evidenceYears: number;
  /** Years after a batch's as_of date after which its records are purged, per dataset. */
  readonly years: ReadonlyMap<string, number>;
  /** SHA-256 of the file's RFC 8785 canonical form, hex. */
  readonly sha256: string;
}

/** `file` is GATEWAY_RETENTION_POLICY, policies/retention.json by default (config.ts). */
export function loadRetentionPolicy(file: string): RetentionPolicy {
  const parsed = readPolicyFile(file);
  const validate = compilePolicySchemas().retention;
  if (!validate(parsed)) throw new GatewayError('invalid_configuration', `${file}: ${schemaErrors(validate.errors)}`);
  const definition = parsed as { version: number; evidence_years: number; datasets: Record<string, { years: number }> };
  const known = new Set<string>(datasetIds);
  for (const dataset of Object.keys(definition.datasets)) {
    // A misspelt dataset would leave the real one without a period, its records kept for ever without anyone noticing.
    if (!known.has(dataset)) throw new GatewayError('invalid_configuration', `${file}: "${dataset}" is not a dataset of the catalog`);
  }
  for (const dataset of datasetIds) {
    if (definition.datasets[dataset] === undefined) throw new GatewayError('invalid_configuration', `${file}: dataset "${dataset}" has no retention period`);
  }
  const text = canonicalize(definition) as string;
  return {
    version: definition.version,
    evidenceYears: definition.evidence_years,
    years: new Map(Object.entries(definition.datasets).map(([dataset, entry]) => [dataset, entry.years])),
    sha256: sha256Hex(text),
  };
}
