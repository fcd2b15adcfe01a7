/**
 * What SQLite's errors mean to the gateway, recognised by their code alone, so that the CLI's error reporting can
 * tell them without loading the SQLite driver.
 */
function sqliteCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== 'SqliteError') return undefined;
  const { code } = error as Error & { code?: unknown };
  return typeof code === 'string' ? code : undefined;
}

/** The disk (or the file system's quota) is full: SQLite answers ENOSPC with SQLITE_FULL. */
export function isStorageFull(error: unknown): boolean {
  return sqliteCode(error) === 'SQLITE_FULL';
}

/** SQLite found the file damaged: a malformed page or index, or not a database at all. */
export function isDatabaseDamage(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** Another connection holds the lock this statement needs (SQLITE_BUSY and its extended codes). */
export function isBusy(error: unknown): boolean {
  return sqliteCode(error)?.startsWith('SQLITE_BUSY') ?? false;
}
