/**
 * The replay cache of signed requests: a request id (`jti`) is accepted once per participant. Ids are written to
 * the store durably before the request goes on, so the cache survives a restart. Ids arriving in the same round of
 * I/O share one transaction (group commit, flushed on setImmediate), since one fsync per request would cap the
 * gateway at a few thousand requests per second.
 */
import { createGroupCommit } from '../store/groupCommit.js';
import type { IdentityStore, SeenRequest } from '../store/index.js';

export interface ReplayGuard {
  /** Resolves true when the id is new (and is now remembered), false when it was seen before. */
  firstSeen(request: SeenRequest): Promise<boolean>;
}

export function createReplayGuard(store: IdentityStore, nowSeconds: () => number): ReplayGuard {
  const remember = createGroupCommit((requests: readonly SeenRequest[]) => store.rememberRequests(requests, nowSeconds()));
  return { firstSeen: remember.add };
}
