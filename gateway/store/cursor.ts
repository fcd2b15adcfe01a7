/** Page cursors over a store listing: the opaque base64url of the last row's sequence number. */
import { GatewayError } from '../errors/index.js';

export function cursorOf(seq: number): string {
  return Buffer.from(String(seq)).toString('base64url');
}

/** The sequence number a cursor stands for; 0 (the start) without one. */
export function seqOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,15}$/.test(decoded)) throw new GatewayError('invalid_argument', 'the cursor is not one this gateway gave');
  return Number(decoded);
}
