export type * from './store.js';
export { openSqliteStore } from './sqlite/sqliteStore.js';
