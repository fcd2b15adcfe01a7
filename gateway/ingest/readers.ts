/**
 * Streaming readers: bytes in, chunks of raw rows out, for CSV, NDJSON and JSON arrays. Memory stays flat: a record
 * longer than the configured bound is refused rather than buffered, and rows leave in fixed-size chunks.
 * Input is attacker-controlled (any source may send anything): every limit here is checked before buffering.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, CsvError } from 'csv-parse';
import type { Hash } from 'node:crypto';
import type { DatasetDefinition } from '../datasets/registry.js';
import { GatewayError } from '../errors/index.js';
import type { InputFormat, RawChunk } from './types.js';

export interface ReaderLimits {
  /** Longest record, in characters. */
  readonly maxRecordBytes: number;
  /** Most rows in one batch. */
  readonly maxRows: number;
  readonly chunkRows: number;
}

/** Decodes UTF-8 strictly (a GBK file must not turn into mojibake silently), hashing the exact bytes on the way. */
async function* decodeUtf8(input: AsyncIterable<Uint8Array>, hasher: Hash): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  const invalid = (cause: unknown) =>
    new GatewayError('invalid_encoding', `input is not valid UTF-8 near byte ${offset}; convert GBK/GB18030 files first (iconv -f GB18030 -t UTF-8)`, { cause });
  for await (const bytes of input) {
    hasher.update(bytes);
    let text: string;
    try {
      text = decoder.decode(bytes, { stream: true });
    } catch (cause) {
      throw invalid(cause);
    }
    offset += bytes.length;
    if (text.length > 0) yield text;
  }
  try {
    const rest = decoder.decode();
    if (rest.length > 0) yield rest;
  } catch (cause) {
    throw invalid(cause);
  }
}

function tooLarge(limits: ReaderLimits, where: string): GatewayError {
  return new GatewayError('record_too_large', `${where} is longer than ${limits.maxRecordBytes} characters`);
}

function checkRowLimit(rowNumber: number, limits: ReaderLimits): void {
  if (rowNumber > limits.maxRows) throw new GatewayError('too_many_rows', `a batch holds at most ${limits.maxRows} rows; split the file`);
}

/** Delimiters other than the comma that spreadsheets export "CSV" with (a semicolon where the comma is the decimal mark). */
const OTHER_DELIMITERS = [';', '\t', '|'] as const;

/** Maps header cells (English field names or the catalog's Chinese titles) to fields. */
export function mapHeader(header: readonly string[], dataset: DatasetDefinition): string[] {
  const byHeader = new Map<string, string>();
  for (const field of dataset.fields) {
    byHeader.set(field.name, field.name);
    byHeader.set(field.titleZh, field.name);
  }
  const columns = header.map((cell) => byHeader.get(cell.trim()));
  const unknown = header.filter((_, i) => columns[i] === undefined);
  const seen = new Set<string>();
  const repeated = columns.filter((column) => column !== undefined && (seen.has(column) || !seen.add(column)));
  const missing = dataset.fields.filter((field) => field.required && !seen.has(field.name)).map((field) => field.name);
  const delimiter = header.length === 1 ? OTHER_DELIMITERS.find((candidate) => header[0]?.includes(candidate)) : undefined;
  if (delimiter !== undefined && unknown.length === 1) {
    throw new GatewayError('invalid_header', `header does not match dataset ${dataset.id}: it is one column holding ${JSON.stringify(delimiter)}, `
      + `so the delimiter looks wrong: CSV here is comma-separated (save or export the file with "," between fields)`, {
      details: { unknown_columns: unknown, repeated_columns: repeated, missing_columns: missing },
    });
  }
  const problems = [
    unknown.length > 0 ? `unknown column(s): ${unknown.map((cell) => JSON.stringify(cell.slice(0, 60))).join(', ')}` : '',
    repeated.length > 0 ? `repeated column(s): ${repeated.join(', ')}` : '',
    missing.length > 0 ? `missing required column(s): ${missing.join(', ')}` : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new GatewayError('invalid_header', `header does not match dataset ${dataset.id}: ${problems.join('; ')}`, {
      details: { unknown_columns: unknown, repeated_columns: repeated, missing_columns: missing },
    });
  }
  return columns as string[];
}

function csvFailure(error: CsvError, limits: ReaderLimits): GatewayError {
  const line = (error as CsvError & { lines?: number }).lines;
  const where = line === undefined ? 'a record' : `the record ending at line ${line}`;
  if (error.code === 'CSV_MAX_RECORD_SIZE') return tooLarge(limits, where);
  return new GatewayError('malformed_input', `CSV could not be parsed at ${where}: ${error.code}`, { cause: error });
}

async function* csvChunks(text: AsyncIterable<string>, dataset: DatasetDefinition, limits: ReaderLimits): AsyncGenerator<RawChunk> {
  const parser = parse({ relax_column_count: true, skip_empty_lines: true, trim: true, max_record_size: limits.maxRecordBytes });
  const feeding = pipeline(Readable.from(text), parser);
  feeding.catch(() => undefined); // The same error surfaces from iterating the parser.
  let columns: string[] | undefined;
  let rows: string[][] = [];
  let rowNumber = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!columns) {
        columns = mapHeader(record, dataset);
        continue;
      }
      checkRowLimit(++rowNumber, limits);
      rows.push(record);
      if (rows.length === limits.chunkRows) {
        yield { kind: 'cells', firstRow: rowNumber - rows.length + 1, columns, rows };
        rows = [];
      }
    }
  } catch (error) {
    throw error instanceof CsvError ? csvFailure(error, limits) : error;
  } finally {
    parser.destroy();
  }
  if (!columns) throw new GatewayError('empty_input', 'the file is empty');
  if (rowNumber === 0) throw new GatewayError('empty_input', 'the file has a header row but no records');
  if (rows.length > 0) yield { kind: 'cells', firstRow: rowNumber - rows.length + 1, columns, rows };
}

async function* ndjsonChunks(text: AsyncIterable<string>, limits: ReaderLimits): AsyncGenerator<RawChunk> {
  let pending = '';
  let rows: string[] = [];
  let rowNumber = 0;
  let lineNumber = 0;
  const take = (line: string) => {
    lineNumber++;
    const record = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (record.length > limits.maxRecordBytes) throw tooLarge(limits, `line ${lineNumber}`);
    if (record.trim() === '') return;
    checkRowLimit(++rowNumber, limits);
    rows.push(record);
  };
  for await (const piece of text) {
    pending += piece;
    let start = 0;
    for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n', start)) {
      take(pending.slice(start, end));
      start = end + 1;
    }
    pending = pending.slice(start);
    if (pending.length > limits.maxRecordBytes) throw tooLarge(limits, `line ${lineNumber + 1}`);
    if (rows.length >= limits.chunkRows) {
      yield { kind: 'json', firstRow: rowNumber - rows.length + 1, rows };
      rows = [];
    }
  }
  take(pending);
  if (rowNumber === 0) throw new GatewayError('empty_input', 'the input holds no records');
  if (rows.length > 0) yield { kind: 'json', firstRow: rowNumber - rows.length + 1, rows };
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/** Splits a top-level JSON array into the text of its elements without parsing them (the workers parse). */
async function* jsonArrayChunks(text: AsyncIterable<string>, limits: ReaderLimits): AsyncGenerator<RawChunk> {
  // 'comma': after "[" or a record, expecting "," or "]"; 'element': after ",", expecting a record.
  let state = 'start' as 'start' | 'element' | 'inElement' | 'comma' | 'end';
  let element = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let rows: string[] = [];
  let rowNumber = 0;
  const malformed = (what: string) => new GatewayError('malformed_input', `JSON input must be one array of records: ${what}`);
  for await (const piece of text) {
    let elementStart = state === 'inElement' ? 0 : -1;
    for (let i = 0; i < piece.length; i++) {
      const c = piece[i]!;
      if (state === 'inElement') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
          continue;
        }
        if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth++;
        else if ((c === '}' || c === ']') && depth > 0) depth--;
        else if (depth === 0 && (c === ',' || c === ']')) {
          element += piece.slice(elementStart, i);
          if (element.length > limits.maxRecordBytes) throw tooLarge(limits, `record ${rowNumber + 1}`);
          checkRowLimit(++rowNumber, limits);
          rows.push(element.trim());
          element = '';
          state = c === ',' ? 'element' : 'end';
        }
        continue;
      }
      if (WHITESPACE.has(c)) continue;
      if (state === 'start') {
        if (c !== '[') throw malformed('it does not start with "["');
        state = 'comma';
      } else if (state === 'comma' && c === ']' && rowNumber === 0) {
        state = 'end';
      } else if (state === 'element' || (state === 'comma' && rowNumber === 0)) {
        if (c === ']' || c === ',') throw malformed(`unexpected "${c}" after record ${rowNumber}`);
        state = 'inElement';
        elementStart = i;
        depth = 0;
        inString = false;
        escaped = false;
        i--; // Read this character again as the element's first.
      } else {
        throw malformed(`unexpected "${c}" after record ${rowNumber}`);
      }
    }
    if (state === 'inElement') {
      element += piece.slice(elementStart);
      if (element.length > limits.maxRecordBytes) throw tooLarge(limits, `record ${rowNumber + 1}`);
    }
    if (rows.length >= limits.chunkRows) {
      yield { kind: 'json', firstRow: rowNumber - rows.length + 1, rows };
      rows = [];
    }
  }
  if (state === 'start') throw new GatewayError('empty_input', 'the input is empty');
  if (state !== 'end') throw malformed('the array is not closed');
  if (rowNumber === 0) throw new GatewayError('empty_input', 'the array holds no records');
  if (rows.length > 0) yield { kind: 'json', firstRow: rowNumber - rows.length + 1, rows };
}

/** Raw-row chunks of an input in the given format; the hasher sees every byte read. */
export function readChunks(
  input: AsyncIterable<Uint8Array>, format: InputFormat, dataset: DatasetDefinition, limits: ReaderLimits, hasher: Hash,
): AsyncIterable<RawChunk> {
  const text = decodeUtf8(input, hasher);
  switch (format) {
    case 'csv':
      return csvChunks(text, dataset, limits);
    case 'ndjson':
      return ndjsonChunks(text, limits);
    case 'json':
      return jsonArrayChunks(text, limits);
  }
}
