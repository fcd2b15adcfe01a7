/**
 * Whether writes can succeed now, for /readyz: the audit log is not halted (anchor.ts) and the disk holding the data
 * directory has at least GATEWAY_MIN_FREE_MB free. A load balancer then sends traffic elsewhere instead of to a
 * gateway that would answer every write with storage_full or audit_log_inconsistent.
 */
import fs from 'node:fs';
import type { AuditLog } from '../audit/index.js';
import { GatewayError } from '../errors/index.js';

const MIB = 1024 * 1024;

export function checkWritable(dataDir: string, minFreeBytes: number, log: AuditLog): void {
  const halted = log.halted();
  if (halted) throw halted;
  const stats = fs.statfsSync(dataDir);
  const free = stats.bavail * stats.bsize;
  if (free < minFreeBytes) {
    throw new GatewayError('storage_full',
      `the disk holding ${dataDir} has ${(free / MIB).toFixed(1)} MiB free, less than GATEWAY_MIN_FREE_MB (${minFreeBytes / MIB}): writes would fail; free space`,
      { details: { free_bytes: free } });
  }
}
