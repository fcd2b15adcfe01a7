/**
 * Both stores are checked at every start (through integrityProblems: PRAGMA quick_check on SQLite, the log head
 * against the entries on PostgreSQL): damaged data is refused before anything is read from it, appended to it or
 * signed over it.
 */
import { GatewayError } from '../errors/index.js';
import { isDatabaseDamage } from '../store/index.js';

interface CheckableStore {
  integrityProblems(): Promise<string[]>;
  close(): Promise<void>;
}

function damaged(file: string, reason: string, cause?: unknown): GatewayError {
  if (file.startsWith('postgres')) {
    return new GatewayError('database_damaged',
      `the PostgreSQL database ${file} is damaged (${reason.slice(0, 300)}): the gateway does not start on it. Stop every gateway instance, `
      + 'restore the database from your backup (docs/operations.md, "Backup and restore"), and start again', { cause, details: { database: file } });
  }
  return new GatewayError('database_damaged',
    `${file} is damaged (${reason.slice(0, 300)}): the gateway does not start on it. Stop every process using the data directory, `
    + `restore the file (with its -wal file, if any) from your backup, and start again; \`sqlite3 ${file} 'PRAGMA integrity_check'\` lists the damage`,
    { cause, details: { database_file: file } });
}

/** Opens a store and checks it; throws database_damaged naming the file or database, with the store closed again. */
export async function openCheckedStore<T extends CheckableStore>(file: string, open: () => Promise<T>): Promise<T> {
  let store: T;
  try {
    store = await open();
  } catch (error) {
    if (isDatabaseDamage(error)) throw damaged(file, (error as Error).message, error);
    throw error;
  }
  let problems: string[];
  try {
    problems = await store.integrityProblems();
  } catch (error) {
    await store.close();
    throw error;
  }
  if (problems.length > 0) {
    await store.close();
    throw damaged(file, problems.join('; '));
  }
  return store;
}
