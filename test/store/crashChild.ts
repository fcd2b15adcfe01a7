/**
 * A process that dies in the middle of a batch, for the crash test of any engine:
 *   node crashChild.js <opener module URL> <location>
 * The opener module exports `openStore(location)` (StoreOpener), which opens that engine's store. The child opens
 * it, begins a batch, adds records, writes "added" on stdout and waits, its batch open, until it is killed.
 */
import type { Store } from '../../gateway/store/index.js';
import { DATASET, sealedRecords } from './fixtures.js';

/** What an opener module exports. */
export interface StoreOpener {
  openStore(location: string): Promise<Store>;
}

const [opener, location] = process.argv.slice(2);
if (opener === undefined || location === undefined) throw new Error('usage: crashChild.js <opener module URL> <location>');
const { openStore } = (await import(opener)) as StoreOpener;
const store = await openStore(location);
const writer = await store.beginBatch(DATASET);
await writer.add(sealedRecords('crashed', ['k1', 'k2', 'k3']));
process.stdout.write('added\n');
// Kept alive, the batch open, until the parent kills this process.
setInterval(() => undefined, 60_000);
