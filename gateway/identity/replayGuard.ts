/**
 * The replay cache of signed requests: a request id (`jti`) is accepted once per participant. Ids are written to
 * the store durably before the request goes on, so the cache survives a restart. Ids arriving in the same round of
 * I/O share one transaction (group commit, flushed on setImmediate), since one fsync per request would cap the
 * gateway at a few thousand requests per second.
 */
import type { IdentityStore, SeenRequest } from '../store/index.js';

export interface ReplayGuard {
  /** Resolves true when the id is new (and is now remembered), false when it was seen before. */
  firstSeen(request: SeenRequest): Promise<boolean>;
}

interface Pending {
  readonly request: SeenRequest;
  readonly resolve: (isNew: boolean) => void;
  readonly reject: (error: unknown) => void;
}

export function createReplayGuard(store: IdentityStore, nowSeconds: () => number): ReplayGuard {
  let pending: Pending[] = [];

  function flush(): void {
    const batch = pending;
    pending = [];
    try {
      const results = store.rememberRequests(batch.map((entry) => entry.request), nowSeconds());
      batch.forEach((entry, index) => entry.resolve(results[index] as boolean));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }

  return {
    firstSeen(request) {
      return new Promise((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ request, resolve, reject });
      });
    },
  };
}
