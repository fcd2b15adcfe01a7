/**
 * The ajv formats and keywords the dataset schemas use, so that every rule about a field lives in its schema:
 * identifier check characters, months, exact money and yes/no values. `yuan` and `flag` normalise the value they
 * accept (to integer fen, to a boolean) in the same pass, so there is one parser for each and no float ever holds
 * an amount.
 */
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { DataValidationCxt } from 'ajv/dist/types/index.js';
import { isValidResidentId, isValidUscc } from '../identifiers/index.js';

const YEAR_MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
/** Up to 10^13 yuan, so that fen stay well inside Number.MAX_SAFE_INTEGER. */
const YUAN = /^(0|[1-9]\d{0,12})(?:\.(\d{1,2}))?$/;
const FLAG_VALUES: ReadonlyMap<unknown, boolean> = new Map<unknown, boolean>([
  [true, true], [false, false], ['true', true], ['false', false], ['是', true], ['否', false],
  ['1', true], ['0', false], [1, true], [0, false],
]);

/** Parses an amount in yuan (decimal string or JSON number) into integer fen, or undefined if it is not one. */
export function yuanToFen(value: unknown): number | undefined {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else return undefined;
  const match = YUAN.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

type NormalisingValidator = ((schema: boolean, data: unknown, parentSchema?: unknown, cxt?: DataValidationCxt) => boolean) & {
  errors?: Array<{ keyword: string; message: string; params: Record<string, unknown> }>;
};

function normalising(keyword: string, message: string, parse: (value: unknown) => unknown): NormalisingValidator {
  const validate: NormalisingValidator = (_schema, data, _parentSchema, cxt) => {
    const parsed = parse(data);
    if (parsed === undefined) {
      validate.errors = [{ keyword, message, params: {} }];
      return false;
    }
    if (cxt?.parentData !== undefined) {
      (cxt.parentData as Record<string | number, unknown>)[cxt.parentDataProperty] = parsed;
    }
    return true;
  };
  return validate;
}

export function addDatasetVocabulary(ajv: Ajv2020): void {
  ajv.addFormat('uscc', { type: 'string', validate: isValidUscc });
  ajv.addFormat('resident-id', { type: 'string', validate: isValidResidentId });
  ajv.addFormat('year-month', { type: 'string', validate: (month: string) => YEAR_MONTH.test(month) });
  ajv.addKeyword({
    keyword: 'yuan',
    schemaType: 'boolean',
    modifying: true,
    errors: true,
    validate: normalising('yuan', 'must be an amount in yuan: not negative, at most two decimals', yuanToFen),
  });
  ajv.addKeyword({
    keyword: 'flag',
    schemaType: 'boolean',
    modifying: true,
    errors: true,
    validate: normalising('flag', 'must be true/false, 是/否 or 1/0', (value) => FLAG_VALUES.get(value)),
  });
  // Annotations read by the registry and the catalog generator; they do not validate anything.
  ajv.addKeyword({ keyword: 'x-dataset', schemaType: 'object' });
  ajv.addKeyword({ keyword: 'x-added', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-unknown-if-absent', schemaType: 'boolean' });
}
