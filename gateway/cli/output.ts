/**
 * How commands report: a human sentence, or with --json one JSON document on stdout for scripts. Failures print a
 * message (or a JSON error) and set a non-zero exit code. Record values never appear in either.
 */
import { GatewayClientError } from '../client/client.js';
import { GatewayError, InvalidRowsError } from '../errors/index.js';
import { isStorageFull } from '../store/index.js';

export interface OutputOptions {
  readonly json?: boolean;
}

export function report(options: OutputOptions, value: unknown, human: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

function describe(error: unknown): { code: string; message: string; details?: Record<string, unknown> } {
  if (error instanceof GatewayError) {
    return error.details ? { code: error.code, message: error.message, details: error.details } : { code: error.code, message: error.message };
  }
  if (error instanceof GatewayClientError) {
    // A refusal by a running gateway (gateway client ...): its problem code, and the request id to look it up by.
    return { code: error.code, message: `${error.message} (HTTP ${error.status}, request id ${error.requestId ?? 'none'})`, details: { problem: error.problem } };
  }
  if (isStorageFull(error)) return { code: 'storage_full', message: 'the disk holding the data directory is full: the change was not stored; free space and run the command again' };
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

export function reportFailure(options: OutputOptions, error: unknown): void {
  process.exitCode = 1;
  const { code, message, details } = describe(error);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ error: { code, message, ...details } }, null, 2)}\n`);
    return;
  }
  process.stderr.write(`error (${code}): ${message}\n`);
  if (error instanceof InvalidRowsError) {
    for (const rowError of error.rowErrors) {
      process.stderr.write(`  row ${rowError.row}${rowError.field ? `, ${rowError.field}` : ''}: ${rowError.reason}\n`);
    }
    const more = error.invalidRowCount - new Set(error.rowErrors.map((rowError) => rowError.row)).size;
    if (more > 0) process.stderr.write(`  … and ${more} more invalid row(s)\n`);
  }
  if (!(error instanceof GatewayError) && !(error instanceof GatewayClientError) && code === 'internal_error' && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
}

/** Wraps a command action so every failure ends in reportFailure. */
export function guarded<Args extends unknown[]>(action: (...args: Args) => Promise<void> | void) {
  return async (...args: Args): Promise<void> => {
    const options = args.find((arg): arg is OutputOptions => typeof arg === 'object' && arg !== null && 'json' in arg) ?? {};
    try {
      await action(...args);
    } catch (error) {
      reportFailure(options, error);
    }
  };
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
