export { createAuditLog } from './log.js';
export type { AppendedEntry, AuditLog } from './log.js';
export { createCheckpointer } from './checkpointer.js';
export type { Checkpointer } from './checkpointer.js';
export { AUDIT_KINDS, entryBytes, ENTRY_VERSION } from './events.js';
export type { AuditEvent, AuditKind, JsonValue } from './events.js';
