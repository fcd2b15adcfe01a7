export { openRuntime, initialise } from './runtime.js';
export type { AuditRuntime, Runtime, RuntimeHooks } from './runtime.js';
export { AUDIT_DATABASE_FILE, DATABASE_FILE, isFreshDataDirectory } from './dataDirectory.js';
export { checkWritable } from './readiness.js';
