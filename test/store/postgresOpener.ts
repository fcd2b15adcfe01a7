/** Opens a PostgreSQL store on a database URL: the opener the crash test's child (crashChild.ts) uses on PostgreSQL. */
import { openPostgresStore } from '../../gateway/store/index.js';
import type { StoreOpener } from './crashChild.js';

export const openStore: StoreOpener['openStore'] = (location) => openPostgresStore({ url: location });
