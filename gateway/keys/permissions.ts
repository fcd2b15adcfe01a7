/**
 * Key files others can read, or a keys directory others can write (and so swap a key in), are refused: a private
 * key or secret with group or other permission bits, or a keys directory writable by group or others. An operator who
 * must run that way anyway (a shared volume whose modes cannot be changed) sets GATEWAY_ALLOW_UNSAFE_KEY_PERMISSIONS=1,
 * and each problem is then a warning at start.
 */
import fs from 'node:fs';
import { GatewayError } from '../errors/index.js';

export interface PermissionProblem {
  readonly file: string;
  readonly mode: string;
  readonly remedy: string;
}

function modeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** What is wrong with the modes of `directory` and of the private `files` that exist. */
export function keyPermissionProblems(directory: string, files: readonly string[]): PermissionProblem[] {
  const problems: PermissionProblem[] = [];
  const directoryMode = modeOf(directory);
  if (directoryMode !== undefined && (directoryMode & 0o022) !== 0) {
    problems.push({ file: directory, mode: directoryMode.toString(8), remedy: `chmod 700 ${directory}` });
  }
  for (const file of files) {
    const mode = modeOf(file);
    if (mode !== undefined && (mode & 0o077) !== 0) problems.push({ file, mode: mode.toString(8), remedy: `chmod 600 ${file}` });
  }
  return problems;
}

/** Throws key_permissions_unsafe listing every problem, or, when allowed, hands each to `warn`. */
export function checkKeyPermissions(
  directory: string, files: readonly string[], allowUnsafe: boolean, warn: (problem: PermissionProblem) => void,
): void {
  const problems = keyPermissionProblems(directory, files);
  if (problems.length === 0) return;
  if (allowUnsafe) {
    problems.forEach(warn);
    return;
  }
  const listed = problems.map((problem) => `${problem.file} has mode ${problem.mode} (${problem.remedy})`).join('; ');
  throw new GatewayError('key_permissions_unsafe',
    `key material others can read or replace: ${listed}. Fix the modes, or set GATEWAY_ALLOW_UNSAFE_KEY_PERMISSIONS=1 to start anyway`,
    { details: { files: problems.map((problem) => problem.file) } });
}
