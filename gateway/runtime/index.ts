export { openRuntime, initialise, DATABASE_FILE, AUDIT_DATABASE_FILE } from './runtime.js';
export type { AuditRuntime, Runtime, RuntimeHooks } from './runtime.js';
