/**
 * The audit log, read over signed requests: the latest checkpoint (C2SP note text, with witness cosignatures),
 * entries (paged, filtered), inclusion and consistency proofs. Auditors read everything; an enterprise reads only
 * the entries about itself. Every read is itself an audit entry, durable before the answer leaves. The note
 * verifier key is public.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { leafHash } from '../../crypto/merkleHash.js';
import type { AuditRuntime } from '../../runtime/index.js';
import { GatewayError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import { BODY_LIMITS, principalOf, signedRequest } from '../signedRequest.js';

export interface AuditDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly audit: AuditRuntime;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const TIME = /^\d{4}-\d{2}-\d{2}(T[0-9:.]+Z)?$/;

function query(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new GatewayError('invalid_argument', `query parameter "${name}" must appear once`);
  return value;
}

function integer(req: Request, name: string, fallback?: number): number {
  const raw = query(req, name);
  if (raw === undefined) {
    if (fallback === undefined) throw new GatewayError('invalid_argument', `query parameter "${name}" is required`);
    return fallback;
  }
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new GatewayError('invalid_argument', `query parameter "${name}" must be a non-negative integer`);
  }
  return Number(raw);
}

/** An instant in the stored form (ISO 8601 with milliseconds), so that comparing text compares times. */
function time(req: Request, name: string): string | undefined {
  const raw = query(req, name);
  if (raw === undefined) return undefined;
  const instant = TIME.test(raw) ? new Date(raw.length === 10 ? `${raw}T00:00:00Z` : raw) : new Date(Number.NaN);
  // Date rolls 2026-02-30 over to March: a date that does not read back the same is not a date.
  if (Number.isNaN(instant.getTime()) || !instant.toISOString().startsWith(raw.slice(0, 10))) {
    throw new GatewayError('invalid_argument', `query parameter "${name}" must be an RFC 3339 UTC time or a date`);
  }
  return instant.toISOString();
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export function auditRoutes(deps: AuditDependencies): Router {
  const router = Router();
  const { log, store, checkpointer, noteKey } = deps.audit;
  const readers = signedRequest(deps.authenticator, ['auditor', 'enterprise'], BODY_LIMITS.none);

  /** Records the read before anything is answered: no entry, no answer. */
  async function recordRead(req: Request, res: Response, details: Record<string, string | number>): Promise<number> {
    const principal = principalOf(res);
    // An enterprise's reads are about itself; an auditor's read filtered by subject is about that subject, so the
    // enterprise sees that it was read.
    const subject = principal.role === 'enterprise' ? principal.uscc : query(req, 'subject');
    const appended = await log.append({
      kind: 'audit.read',
      actor: principal.participantId,
      ...(subject ? { subject } : {}),
      details: { endpoint: req.path, ...details, request_sha256: principal.requestSha256 },
    });
    res.set('Audit-Index', String(appended.index));
    return appended.index;
  }

  router.get('/v1/audit/note-key', function noteVerifierKey(_req: Request, res: Response) {
    res.type('text/plain').send(`${noteKey.verifierKey}\n`);
  });

  // Enterprises too: the portal checks the inclusion proofs of the accesses to them against it.
  router.get('/v1/audit/checkpoint', ...readers, async function latestCheckpoint(req: Request, res: Response) {
    const checkpoint = await store.latestCheckpoint() ?? await checkpointer.checkpointNow();
    if (!checkpoint) throw new GatewayError('not_found', 'the audit log is empty');
    await recordRead(req, res, { tree_size: checkpoint.treeSize });
    const cosignatures = (await store.cosignatures(checkpoint.treeSize)).map((cosignature) => `${cosignature.signatureLine}\n`).join('');
    res.type('text/plain; charset=utf-8').send(checkpoint.note + cosignatures);
  });

  router.get('/v1/audit/entries', ...readers, async function entries(req: Request, res: Response) {
    const principal = principalOf(res);
    const size = await log.size();
    const start = integer(req, 'start', 0);
    const end = Math.min(integer(req, 'end', size), size);
    const limit = integer(req, 'limit', DEFAULT_PAGE);
    if (limit < 1 || limit > MAX_PAGE) throw new GatewayError('invalid_argument', `limit must be 1-${MAX_PAGE}`);
    const requestedSubject = query(req, 'subject');
    if (principal.role === 'enterprise' && requestedSubject !== undefined && requestedSubject !== principal.uscc) {
      throw new GatewayError('role_not_allowed', 'an enterprise reads only the entries about itself');
    }
    const filter = {
      actor: query(req, 'participant'),
      // An enterprise sees only entries about itself, whatever it asks for.
      subject: principal.role === 'enterprise' ? principal.uscc : requestedSubject,
      consentId: query(req, 'consent'),
      kind: query(req, 'kind'),
      from: time(req, 'from'),
      to: time(req, 'to'),
    };
    const found = await log.entries({ start, end, limit, ...filter });
    await recordRead(req, res, { start, end, found: found.length });
    const last = found.at(-1);
    res.json({
      tree_size: size,
      entries: found.map((entry) => ({ index: entry.index, entry: Buffer.from(entry.entry).toString('utf8') })),
      next_start: found.length === limit && last ? last.index + 1 : null,
    });
  });

  router.get('/v1/audit/proofs/inclusion', ...readers, async function inclusion(req: Request, res: Response) {
    const index = integer(req, 'index');
    const treeSize = integer(req, 'tree_size');
    if (treeSize > await log.size() || index >= treeSize) {
      throw new GatewayError('invalid_argument', `need index < tree_size ≤ ${await log.size()} (the current size)`);
    }
    const principal = principalOf(res);
    const [entry] = await log.entries({ start: index, end: index + 1, limit: 1 });
    if (!entry) throw new GatewayError('internal_error', 'an entry inside the tree is missing');
    if (principal.role === 'enterprise' && entry.subject !== principal.uscc) throw new GatewayError('not_found', 'no entry about you at this index');
    await recordRead(req, res, { index, tree_size: treeSize });
    res.json({
      leaf_index: index,
      tree_size: treeSize,
      leaf_hash: base64(leafHash(entry.entry)),
      proof: (await log.inclusionProof(index, treeSize)).map(base64),
      root_hash: base64(await log.rootAt(treeSize)),
    });
  });

  router.get('/v1/audit/proofs/consistency', ...readers, async function consistency(req: Request, res: Response) {
    const first = integer(req, 'first');
    const second = integer(req, 'second');
    if (first < 1 || first > second || second > await log.size()) {
      throw new GatewayError('invalid_argument', `need 1 ≤ first ≤ second ≤ ${await log.size()} (the current size)`);
    }
    await recordRead(req, res, { first, second });
    res.json({
      first_size: first,
      second_size: second,
      first_root: base64(await log.rootAt(first)),
      second_root: base64(await log.rootAt(second)),
      proof: (await log.consistencyProof(first, second)).map(base64),
    });
  });

  return router;
}
