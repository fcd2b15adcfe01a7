/**
 * The twelve datasets of the data catalog, loaded from their JSON Schemas in schemas/datasets/ and compiled once.
 * The schemas are the single source of truth: field names, Chinese titles, row shapes, natural keys and every
 * validation rule come from them, and so does docs/data-catalog.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { GatewayError } from '../errors/index.js';
import type { RowError } from '../errors/index.js';
import { schemasDir } from '../paths.js';
import { addDatasetVocabulary } from './keywords.js';

/** Catalog order (1a … 3c); the position is also the dataset's stable number in storage. */
export const datasetIds = [
  'medical_insurance_payments',
  'medical_insurance_arrears',
  'medical_insurance_changes',
  'private_medical_institutions',
  'agri_insurance',
  'agri_subsidies',
  'large_growers',
  'agri_entities',
  'land_transfers',
  'water_accounts',
  'electricity_accounts',
  'gas_accounts',
] as const;

export type DatasetId = (typeof datasetIds)[number];

export function isDatasetId(value: string): value is DatasetId {
  return (datasetIds as readonly string[]).includes(value);
}

export interface FieldDefinition {
  readonly name: string;
  readonly titleZh: string;
  readonly description: string;
  /** The shared type from common.v1.json (`yuan`, `month`, …), or `enum`. */
  readonly kind: string;
  readonly required: boolean;
  readonly enumValues: readonly string[] | undefined;
  /** Why the field is not in the plan's catalog, when the row shape needed it. Such a field is never required. */
  readonly added: string | undefined;
  /** A question that reads this field answers `unknown` for a subject with a record that lacks it (no guessing). */
  readonly unknownIfAbsent: boolean;
}

/** How the record names its subject: a fixed id type (USCC datasets) or a field that holds it. */
export type SubjectRule =
  | { readonly idType: 'uscc'; readonly idNumberField: string }
  | { readonly idTypeField: string; readonly idNumberField: string };

export interface DatasetDefinition {
  readonly id: DatasetId;
  readonly version: number;
  readonly catalog: string;
  readonly titleZh: string;
  readonly titleEn: string;
  readonly description: string;
  readonly source: { readonly zh: string; readonly en: string };
  readonly row: string;
  readonly naturalKey: readonly string[];
  /**
   * The natural key of a row that lacks one of the added fields of `naturalKey`: catalog fields only, so that a
   * source exporting exactly the catalog's columns is understood. Undefined when the natural key is all catalog.
   */
  readonly catalogKey: readonly string[] | undefined;
  readonly subject: SubjectRule;
  /** True when the subject's identifier is an added field: a row without it is stored but linked to no subject. */
  readonly subjectOptional: boolean;
  readonly fields: readonly FieldDefinition[];
  readonly schemaFile: string;
}

/** A record after validation: amounts in integer fen, flags as booleans. */
export type NormalisedRecord = Record<string, string | number | boolean>;

export interface DatasetRegistry {
  readonly datasets: readonly DatasetDefinition[];
  /** Throws unknown_dataset for anything but the twelve ids. */
  get(id: string): DatasetDefinition;
  /**
   * Validates one input row and normalises it in place (amounts → fen, flags → booleans). Returns the row errors,
   * empty when the row is valid.
   */
  validate(id: DatasetId, row: Record<string, unknown>, rowNumber: number): RowError[];
}

interface DatasetAnnotation {
  id: string;
  version: number;
  catalog: string;
  title_en: string;
  source: { zh: string; en: string };
  row: string;
  natural_key: string[];
  catalog_key?: string[];
  subject: { id_type?: 'uscc'; id_type_field?: string; id_number_field: string };
}

interface PropertySchema {
  title?: string;
  description?: string;
  $ref?: string;
  enum?: string[];
  type?: string;
  'x-added'?: string;
  'x-unknown-if-absent'?: boolean;
  formatMinimum?: { $data?: string };
}

interface DatasetSchema {
  $id: string;
  title: string;
  description: string;
  'x-dataset': DatasetAnnotation;
  properties: Record<string, PropertySchema>;
  required?: string[];
}

const COMMON_SCHEMA = 'common.v1.json';

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function fieldKind(property: PropertySchema): string {
  if (property.$ref) return property.$ref.slice(property.$ref.lastIndexOf('/') + 1);
  if (property.enum) return 'enum';
  return property.type ?? 'string';
}

function toDefinition(schema: DatasetSchema, file: string): DatasetDefinition {
  const meta = schema['x-dataset'];
  if (!isDatasetId(meta.id)) throw new GatewayError('invalid_configuration', `${file}: unknown dataset id ${meta.id}`);
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties).map(([name, property]): FieldDefinition => {
    if (!property.title) throw new GatewayError('invalid_configuration', `${file}: field ${name} has no Chinese title`);
    return {
      name,
      titleZh: property.title,
      description: property.description ?? '',
      kind: fieldKind(property),
      required: required.has(name),
      enumValues: property.enum,
      added: property['x-added'],
      unknownIfAbsent: property['x-unknown-if-absent'] === true,
    };
  });
  for (const field of fields) {
    // A source exporting exactly the catalog's columns has none of the added fields: none may be required.
    if (field.added && field.required) throw new GatewayError('invalid_configuration', `${file}: added field ${field.name} must not be required`);
    if (field.unknownIfAbsent && !field.added) throw new GatewayError('invalid_configuration', `${file}: only an added field is unknown if absent`);
  }
  const byName = new Map(fields.map((field) => [field.name, field]));
  const names = new Set(fields.map((field) => field.name));
  const subject: SubjectRule = meta.subject.id_type_field
    ? { idTypeField: meta.subject.id_type_field, idNumberField: meta.subject.id_number_field }
    : { idType: 'uscc', idNumberField: meta.subject.id_number_field };
  // Key and subject fields are required, or added (absent in a catalog-only row) with a fallback that is required.
  const optionalKey = meta.natural_key.filter((key) => !required.has(key));
  for (const key of optionalKey) {
    if (!byName.get(key)?.added) throw new GatewayError('invalid_configuration', `${file}: key field ${key} must be required or added`);
  }
  if (optionalKey.length > 0 && !meta.catalog_key) throw new GatewayError('invalid_configuration', `${file}: added key fields need a catalog_key`);
  for (const key of meta.catalog_key ?? []) {
    if (!required.has(key)) throw new GatewayError('invalid_configuration', `${file}: catalog key field ${key} must be a required field`);
  }
  const subjectFields = [meta.subject.id_number_field, meta.subject.id_type_field].filter((key): key is string => key !== undefined);
  const subjectOptional = subjectFields.some((key) => !required.has(key));
  for (const key of subjectFields) {
    if (!required.has(key) && !byName.get(key)?.added) throw new GatewayError('invalid_configuration', `${file}: subject field ${key} must be required or added`);
  }
  if (fields.length !== names.size) throw new GatewayError('invalid_configuration', `${file}: duplicate field`);
  return {
    id: meta.id,
    version: meta.version,
    catalog: meta.catalog,
    titleZh: schema.title,
    titleEn: meta.title_en,
    description: schema.description,
    source: meta.source,
    row: meta.row,
    naturalKey: meta.natural_key,
    catalogKey: meta.catalog_key,
    subject,
    subjectOptional,
    fields,
    schemaFile: path.basename(file),
  };
}

/** An ajv error as a row error: which field and why, never the value. */
function toRowError(error: ErrorObject, rowNumber: number, lowerBounds: ReadonlyMap<string, string>): RowError | undefined {
  // The failing `then`/`else` branch is reported through its own, more precise error.
  if (error.keyword === 'if') return undefined;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    return { row: rowNumber, field: String(params['missingProperty']), reason: 'is required' };
  }
  if (error.keyword === 'additionalProperties') {
    return { row: rowNumber, field: String(params['additionalProperty']), reason: 'is not a field of this dataset' };
  }
  if (error.keyword === 'dependentRequired') {
    return {
      row: rowNumber,
      field: String(params['missingProperty']),
      reason: `is required when ${String(params['property'])} is given`,
    };
  }
  const field = error.instancePath.split('/')[1];
  const reason = reasonFor(error, params, lowerBounds);
  return field ? { row: rowNumber, field, reason } : { row: rowNumber, reason };
}

/** ajv's own messages for comparisons against another field quote that field's value; ours name the field. */
function reasonFor(error: ErrorObject, params: Record<string, unknown>, lowerBounds: ReadonlyMap<string, string>): string {
  if (error.keyword === 'format') return `must be a valid ${String(params['format'])}`;
  if (error.keyword === 'formatMinimum') {
    const other = lowerBounds.get(error.instancePath.split('/')[1] ?? '');
    return other ? `must not be earlier than ${other}` : 'is too early';
  }
  return error.message ?? error.keyword;
}

function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, $data: true, coerceTypes: true, allowUnionTypes: true });
  // ajv-formats is CommonJS; its default export is the plugin function.
  const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020, options: { keywords: boolean }) => Ajv2020;
  addFormats(ajv, { keywords: true });
  addDatasetVocabulary(ajv);
  return ajv;
}

export function loadDatasetRegistry(directory: string = path.join(schemasDir, 'datasets')): DatasetRegistry {
  const ajv = createAjv();
  ajv.addSchema(readJson(path.join(directory, COMMON_SCHEMA)) as object);
  const byId = new Map<DatasetId, { definition: DatasetDefinition; validator: ValidateFunction; lowerBounds: Map<string, string> }>();
  for (const file of fs.readdirSync(directory).sort()) {
    if (file === COMMON_SCHEMA || !file.endsWith('.json')) continue;
    const fullPath = path.join(directory, file);
    const schema = readJson(fullPath) as DatasetSchema;
    const definition = toDefinition(schema, fullPath);
    if (byId.has(definition.id)) throw new GatewayError('invalid_configuration', `${file}: dataset ${definition.id} defined twice`);
    // Fields bounded below by another field ({"formatMinimum": {"$data": "1/start"}}), for readable errors.
    const lowerBounds = new Map<string, string>();
    for (const [name, property] of Object.entries(schema.properties)) {
      const other = property.formatMinimum?.$data?.split('/').pop();
      if (other) lowerBounds.set(name, other);
    }
    byId.set(definition.id, { definition, validator: ajv.compile(schema), lowerBounds });
  }
  const missing = datasetIds.filter((id) => !byId.has(id));
  if (missing.length > 0) throw new GatewayError('invalid_configuration', `no schema for dataset(s): ${missing.join(', ')}`);

  const entry = (id: string) => {
    const found = isDatasetId(id) ? byId.get(id) : undefined;
    if (!found) throw new GatewayError('unknown_dataset', `unknown dataset "${id}"; known: ${datasetIds.join(', ')}`);
    return found;
  };
  return {
    datasets: datasetIds.map((id) => entry(id).definition),
    get: (id) => entry(id).definition,
    validate(id, row, rowNumber) {
      const { validator, lowerBounds } = entry(id);
      if (validator(row)) return [];
      const errors: RowError[] = [];
      for (const error of validator.errors ?? []) {
        const rowError = toRowError(error, rowNumber, lowerBounds);
        if (rowError) errors.push(rowError);
      }
      return errors;
    },
  };
}
