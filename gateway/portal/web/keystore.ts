/**
 * The portal's identity, kept in this browser's IndexedDB: the participant id, its certificate and its key pair.
 * The private key is a non-extractable WebCrypto key: scripts can sign with it, nobody can read it out, and it never
 * leaves the browser. Losing it (clearing site data) means enrolling again, which revokes the old certificate.
 */
export interface Identity {
  readonly participantId: string;
  readonly role: string;
  readonly name: string;
  readonly uscc: string | null;
  readonly certificatePem: string;
  readonly certificateSha256: string;
  readonly privateKey: CryptoKey;
}

const DATABASE = 'credit-gateway-portal';
const STORE = 'identity';
const KEY = 'current';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function transact<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = run(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

export function loadIdentity(): Promise<Identity | undefined> {
  return transact('readonly', (store) => store.get(KEY) as IDBRequest<Identity | undefined>);
}

/** CryptoKey objects are stored as themselves (structured clone): a non-extractable key stays non-extractable. */
export async function saveIdentity(identity: Identity): Promise<void> {
  await transact('readwrite', (store) => store.put(identity, KEY));
}

export async function forgetIdentity(): Promise<void> {
  await transact('readwrite', (store) => store.delete(KEY));
}
