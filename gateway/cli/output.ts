/**
 * How commands report: a human sentence, or with --json one JSON document on stdout for scripts. Failures print a
 * message (or a JSON error) and set a non-zero exit code. Record values never appear in either.
 *
 * A mistake in how a command was called (a missing file, no gateway at the URL, a port in use) is said in one line
 * with what to do, under a code of its own; only an unexpected failure is internal_error, and its stack trace is
 * printed with --debug alone.
 */
import type { Command } from 'commander';
import { GatewayClientError, GatewayUnreachableError } from '../client/errors.js';
import { GatewayError, InvalidRowsError } from '../errors/index.js';
import type { RowError } from '../errors/index.js';
// The error module alone: every command loads this file, and most never open a database.
import { isStorageFull } from '../store/sqlite/errors.js';

export interface OutputOptions {
  readonly json?: boolean;
}

export function report(options: OutputOptions, value: unknown, human: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

interface Described {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
  /** Row errors of an invalid batch, listed under the message. */
  readonly rowErrors?: readonly RowError[];
  readonly invalidRowCount?: number;
}

type SystemError = Error & { code?: string; path?: string; syscall?: string; address?: string; port?: number };

/** TLS failures the client sees when it does not trust the gateway's certificate (or the gateway not its own). */
const TLS_REASON = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;

function unreachable(error: GatewayUnreachableError): Described {
  const remedy = TLS_REASON.test(error.reason)
    ? 'the TLS handshake failed: pass the platform CA certificate with --ca (keys/ca.cert.pem, or GET /v1/ca), or check the URL'
    : `start the gateway (npm start, in the project directory), or point GATEWAY_URL or --url at a running one`;
  return { code: 'gateway_unreachable', message: `no gateway answers at ${error.url} (${error.reason}): ${remedy}` };
}

/** The system errors a caller causes: a file that is not there or not readable, a port another process holds. */
function fromSystemError(error: SystemError): Described | undefined {
  if (error.syscall === 'listen' && (error.code === 'EADDRINUSE' || error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL')) {
    const where = `${error.address ?? 'the address'}:${String(error.port ?? '')}`;
    const why = error.code === 'EADDRINUSE' ? 'is already in use (is a gateway already running?)'
      : error.code === 'EACCES' ? 'needs privileges this process does not have' : 'is not an address of this machine';
    return { code: 'address_in_use', message: `cannot listen on ${where}: it ${why}; stop the other process, or choose another with PORT and HOST` };
  }
  if (error.path === undefined) return undefined;
  if (error.code === 'ENOENT') return { code: 'file_not_found', message: `no such file: ${error.path}` };
  if (error.code === 'EACCES' || error.code === 'EPERM') return { code: 'file_unreadable', message: `permission denied: ${error.path}` };
  if (error.code === 'EISDIR') return { code: 'file_unreadable', message: `${error.path} is a directory, not a file` };
  return undefined;
}

function describe(error: unknown): Described {
  if (error instanceof InvalidRowsError) {
    return { code: error.code, message: error.message, details: error.details, rowErrors: error.rowErrors, invalidRowCount: error.invalidRowCount };
  }
  if (error instanceof GatewayError) {
    return error.details ? { code: error.code, message: error.message, details: error.details } : { code: error.code, message: error.message };
  }
  if (error instanceof GatewayClientError) {
    // A refusal by a running gateway (gateway client ...): its problem code, and the request id to look it up by.
    const { errors, invalid_row_count: invalidRowCount } = error.problem;
    return {
      code: error.code,
      message: `${String(error.problem['detail'] ?? error.problem['title'] ?? error.message)} (HTTP ${error.status}, request id ${error.requestId ?? 'none'})`,
      details: { problem: error.problem },
      ...(Array.isArray(errors) ? { rowErrors: errors as RowError[], invalidRowCount: typeof invalidRowCount === 'number' ? invalidRowCount : errors.length } : {}),
    };
  }
  if (error instanceof GatewayUnreachableError) return unreachable(error);
  if (error instanceof Error) {
    const known = fromSystemError(error);
    if (known) return known;
  }
  if (isStorageFull(error)) return { code: 'storage_full', message: 'the disk holding the data directory is full: the change was not stored; free space and run the command again' };
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

function rowErrorLines(rowErrors: readonly RowError[], invalidRowCount: number): string[] {
  const lines = rowErrors.map((rowError) => `  row ${rowError.row}${rowError.field ? `, ${rowError.field}` : ''}: ${rowError.reason}`);
  const more = invalidRowCount - new Set(rowErrors.map((rowError) => rowError.row)).size;
  if (more > 0) lines.push(`  … and ${more} more invalid row(s)`);
  return lines;
}

export function reportFailure(options: OutputOptions & { readonly debug?: boolean }, error: unknown): void {
  process.exitCode = 1;
  const { code, message, details, rowErrors, invalidRowCount } = describe(error);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ error: { code, message, ...details } }, null, 2)}\n`);
  } else {
    process.stderr.write(`error (${code}): ${message}\n`);
    if (rowErrors) for (const line of rowErrorLines(rowErrors, invalidRowCount ?? rowErrors.length)) process.stderr.write(`${line}\n`);
  }
  if (options.debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else if (code === 'internal_error' && !options.json) process.stderr.write('(run again with --debug for the stack trace)\n');
}

/** Wraps a command action so every failure ends in reportFailure. */
export function guarded<Args extends unknown[]>(action: (...args: Args) => Promise<void> | void) {
  return async (...args: Args): Promise<void> => {
    const options = args.find((arg): arg is OutputOptions => typeof arg === 'object' && arg !== null && 'json' in arg) ?? {};
    // commander passes the command itself last; --debug is an option of the program.
    const command = args.at(-1);
    const debug = isCommand(command) && command.optsWithGlobals<{ debug?: boolean }>().debug === true;
    try {
      await action(...args);
    } catch (error) {
      reportFailure({ ...options, debug }, error);
    }
  };
}

function isCommand(value: unknown): value is Command {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Command>).optsWithGlobals === 'function';
}

/** A flag's value as a positive integer (at most 7 digits), or invalid_argument naming the flag. */
export function positiveInteger(flag: string, value: string): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1) throw new GatewayError('invalid_argument', `${flag} must be a positive integer`);
  return Number(value);
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
