/** The files of the data directory, apart from the runtime so that commands that only read them load nothing else. */
export const DATABASE_FILE = 'gateway.sqlite';
export const AUDIT_DATABASE_FILE = 'audit.sqlite';
