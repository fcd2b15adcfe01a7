/** Opens a SQLite store on a file: the opener the crash test's child (crashChild.ts) uses on SQLite. */
import { openSqliteStore } from '../../gateway/store/index.js';
import type { StoreOpener } from './crashChild.js';

export const openStore: StoreOpener['openStore'] = async (location) => openSqliteStore({ file: location });
