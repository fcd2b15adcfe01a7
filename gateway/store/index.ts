export type * from './store.js';
export type * from './reportStore.js';
export type * from './scorecardStore.js';
export type * from './enrolmentStore.js';
export { openSqliteStore } from './sqlite/sqliteStore.js';
export { isDatabaseDamage, isStorageFull } from './sqlite/errors.js';
export type * from './auditStore.js';
export { openSqliteAuditStore } from './sqlite/sqliteAuditStore.js';
export { writeFileAtomically } from './atomicFile.js';
