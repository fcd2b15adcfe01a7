/**
 * Test helper: runs the real CLI (`node dist/gateway/cli/main.js`) on a data and keys directory, and reads its
 * results the way scripts do: the exit code, and with --json one JSON document on stdout.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../gateway/paths.js';

export const CLI = path.join(packageRoot, 'dist/gateway/cli/main.js');

export interface Run {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a command prints with --json when it fails (gateway/cli/output.ts). */
export interface CliError {
  readonly error: {
    readonly code: string;
    readonly message: string;
    /** A running gateway's RFC 9457 problem (`gateway client …`). */
    readonly problem?: Record<string, unknown>;
    /** Row errors of invalid_rows. */
    readonly errors?: ReadonlyArray<{ row: number; field?: string; reason: string }>;
    readonly invalid_row_count?: number;
  };
}

/** The environment a command gets: only PATH from ours, the directories under `root`, quiet logs. */
export function cliEnvironment(root: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '', GATEWAY_DATA_DIR: path.join(root, 'data'), GATEWAY_KEYS_DIR: path.join(root, 'keys'),
    LOG_LEVEL: 'silent', GATEWAY_INGEST_WORKERS: '1', ...extra,
  };
}

/** Runs `gateway ...args`; kills it if it outlives `timeoutMs` (a `serve` that should not have started), a limit generous enough for a loaded machine. */
export function runCli(root: string, args: readonly string[], extraEnv: Record<string, string> = {}, timeoutMs = 180_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnvironment(root, extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ args, code, stdout, stderr });
    });
  });
}

export function json<T>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout of \`gateway ${run.args.join(' ')}\` is not JSON (exit ${String(run.code)}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

export function succeeded(run: Run): Run {
  expect(run.code, `\`gateway ${run.args.join(' ')}\` exit code; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).to.equal(0);
  return run;
}

/** Exit 1 with `--json` output naming `code`. */
export function failedWith(run: Run, code: string): CliError {
  expect(run.code, `\`gateway ${run.args.join(' ')}\` exit code; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).to.equal(1);
  const body = json<CliError>(run);
  expect(body.error.code, body.error.message).to.equal(code);
  expect(body.error.message).to.be.a('string').and.not.be.empty;
  return body;
}
