/**
 * Test helpers for the public test vectors in ../shared/vectors/ (see its README): where they are, a describe block
 * that is skipped with the missing folder named when they are absent, and typed reads of their JSON, with every
 * integer read as a BigInt (some are 2^64 − 1, which JSON.parse would round).
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../gateway/paths.js';

const vectorsRoot = path.join(packageRoot, '..', 'shared', 'vectors');

/** `describe(title)` over the vector folder; without the folder, a single pending test that names it. */
export function describeVectors(folder: string, title: string, body: (dir: string) => void): void {
  const dir = path.join(vectorsRoot, folder);
  describe(title, () => {
    if (!fs.existsSync(dir)) {
      it(`needs the public vectors folder ${dir}`, function () {
        this.skip();
      });
      return;
    }
    body(dir);
  });
}

/** The JSON files under `dir`, recursively, as '/'-separated paths relative to it, sorted. */
export function jsonFilesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.split(path.sep).join('/'))
    .sort();
}

export type JsonObject = Readonly<Record<string, unknown>>;

/** Marks an integer, rewritten as a string so that JSON.parse does not round it. */
const BIGINT_TAG = '\u0000bigint:';

/** Reads a JSON object whose integers (outside strings) become BigInts. */
export function readJson(file: string): JsonObject {
  const text = fs.readFileSync(file, 'utf8');
  // Strings are matched first so that digits inside them are left alone; a bare integer becomes a tagged string.
  const tagged = text.replace(/"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])(-?\d+)(?![\d.eE])/g,
    (match: string, integer: string | undefined) => (integer === undefined ? match : JSON.stringify(`${BIGINT_TAG}${integer}`)));
  const parsed: unknown = JSON.parse(tagged, (_key, value: unknown) =>
    (typeof value === 'string' && value.startsWith(BIGINT_TAG) ? BigInt(value.slice(BIGINT_TAG.length)) : value));
  return asObject(parsed, file);
}

export function asObject(value: unknown, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${what} is not a JSON object`);
  return value as JsonObject;
}

export function str(object: JsonObject, key: string): string {
  const value = object[key];
  if (typeof value !== 'string') throw new TypeError(`${key} is not a string`);
  return value;
}

export function int(object: JsonObject, key: string): bigint {
  const value = object[key];
  if (typeof value !== 'bigint') throw new TypeError(`${key} is not an integer`);
  return value;
}

export function bool(object: JsonObject, key: string): boolean {
  const value = object[key];
  if (typeof value !== 'boolean') throw new TypeError(`${key} is not a boolean`);
  return value;
}

/** An array of strings; JSON null (Go's nil slice) reads as empty. */
export function strings(object: JsonObject, key: string): string[] {
  const value = object[key];
  if (value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new TypeError(`${key} is not an array of strings`);
  return value;
}

export function objects(object: JsonObject, key: string): JsonObject[] {
  const value = object[key];
  if (!Array.isArray(value)) throw new TypeError(`${key} is not an array`);
  return value.map((item, i) => asObject(item, `${key}[${i}]`));
}

export const hex = (text: string): Buffer => Buffer.from(text, 'hex');
export const b64 = (text: string): Buffer => Buffer.from(text, 'base64');
