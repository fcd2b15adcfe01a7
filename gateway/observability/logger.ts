/** Structured JSON logs (pino). Records values never reach a log line: callers log ids, counts and codes only. */
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { LogLevel } from '../config/index.js';

export type { Logger };

export function createLogger(level: LogLevel, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino({ level, base: { service: 'credit-data-gateway' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
