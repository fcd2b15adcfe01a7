/**
 * Small files the gateway must never leave half-written (key files, the key fingerprints, the latest signed
 * checkpoint): written to a temporary file beside the target, fsynced, renamed over it, and the directory fsynced,
 * so that after a crash the file is the old one or the new one, never a mix. Mode 0600.
 */
import fs from 'node:fs';
import path from 'node:path';

export function writeFileAtomically(target: string, content: string, mode = 0o600): void {
  const temporary = `${target}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, 'w', mode);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(temporary, target);
  const directory = fs.openSync(path.dirname(target), 'r');
  try {
    fs.fsyncSync(directory);
  } finally {
    fs.closeSync(directory);
  }
}
