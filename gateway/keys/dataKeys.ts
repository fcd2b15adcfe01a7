/**
 * Data keys: the keys that seal records (AES-256-GCM, or SM4-GCM under the 国密 profile), stored in the database
 * wrapped by the KEK. The newest is current and seals new records; older ones stay until re-encryption has moved
 * every record off them.
 */
import { newDataKey, openRecord, recordAssociatedData, sealRecord, sealedKeyId, unwrapDataKey, wrapDataKey, randomNonces, NONCE_BYTES } from '../crypto/index.js';
import type { CipherKey, DataKey } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { Store } from '../store/index.js';

export interface DataKeyring {
  /** The key that seals new records. */
  current(): DataKey;
  /** Any key a stored record may name; one another process added since is read from the store. */
  get(keyId: number): Promise<DataKey>;
  /** Makes a new key current. */
  rotate(): Promise<DataKey>;
}

/** Opens the keyring with every stored key; the first key is created when there is none. */
export async function openDataKeyring(store: Store, kek: CipherKey, now: () => Date = () => new Date()): Promise<DataKeyring> {
  const keys = new Map<number, DataKey>();
  let currentId = 0;
  const load = async () => {
    for (const wrapped of await store.listDataKeys()) {
      if (!keys.has(wrapped.keyId)) keys.set(wrapped.keyId, unwrapDataKey(kek, wrapped.keyId, wrapped.wrapped));
      currentId = Math.max(currentId, wrapped.keyId);
    }
  };
  const rotate = async (): Promise<DataKey> => {
    let created: DataKey | undefined;
    const keyId = await store.addDataKey((id) => {
      created = newDataKey(id, kek.aead);
      return wrapDataKey(kek, created);
    }, now().toISOString());
    keys.set(keyId, created!);
    currentId = keyId;
    return created!;
  };
  await load();
  if (!keys.has(currentId)) await rotate();
  return {
    current: () => keys.get(currentId) as DataKey,
    async get(keyId) {
      if (!keys.has(keyId)) await load();
      const key = keys.get(keyId);
      if (!key) throw new GatewayError('key_material_missing', `data key ${keyId} is not in the keyring`);
      return key;
    },
    rotate,
  };
}

export interface ReencryptionProgress {
  /** Resume after this record id. */
  readonly lastRecordId: number;
  readonly scanned: number;
  readonly reencrypted: number;
  readonly done: boolean;
}

/**
 * Moves up to `limit` records sealed under older keys to the current key, in one short transaction, so it can run
 * beside live traffic: call it again with the returned lastRecordId until done.
 */
export async function reencryptStep(store: Store, keyring: DataKeyring, afterRecordId: number, limit = 1000): Promise<ReencryptionProgress> {
  const current = keyring.current();
  const rows = await store.scanSealed(afterRecordId, limit);
  const stale = rows.filter((row) => sealedKeyId(row.sealed) !== current.id);
  const nonces = randomNonces(stale.length);
  const updates = await Promise.all(stale.map(async (row, i) => {
    const associatedData = recordAssociatedData(row.dataset, row.recordId);
    const key = await keyring.get(sealedKeyId(row.sealed));
    const plaintext = openRecord(() => key, associatedData, row.sealed);
    return { recordId: row.recordId, sealed: sealRecord(current, associatedData, plaintext, nonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES)) };
  }));
  if (updates.length > 0) await store.replaceSealed(updates);
  return {
    lastRecordId: rows.length > 0 ? rows[rows.length - 1]!.recordId : afterRecordId,
    scanned: rows.length,
    reencrypted: updates.length,
    done: rows.length < limit,
  };
}
