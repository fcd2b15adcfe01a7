/**
 * Enrolment with one-time codes (docs/portal.md). An operator participant issues and lists codes over signed
 * requests; an enterprise redeems one with a proof of possession of the key its browser made. Redemption is the one
 * unsigned write: the enterprise has no certificate yet, and the single-use code and the proof stand in for the
 * signature.
 */
import express, { Router } from 'express';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { EnrolmentCodes, RequestAuthenticator } from '../../identity/index.js';
import { parseJsonObject } from '../../json/index.js';
import { BODY_LIMITS, jsonBodyOf, principalOf, signedRequest } from '../signedRequest.js';

export interface EnrolmentRouteDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly enrolment: EnrolmentCodes;
}

/** A proof is a compact JWS carrying an RSA public key: well under this. */
const PROOF_BODY_BYTES = 16 * 1024;

function readUnsignedJson(req: Request, res: Response, next: NextFunction) {
  const mediaType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    next(new GatewayError('unsupported_format', 'Content-Type must be application/json'));
    return;
  }
  express.raw({ type: () => true, limit: PROOF_BODY_BYTES })(req, res, (error?: unknown) => {
    if (error) {
      next(new GatewayError('body_too_large', `the request body exceeds ${PROOF_BODY_BYTES} bytes, this endpoint's limit`));
      return;
    }
    const parsed = parseJsonObject(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
    if (!parsed.ok) {
      next(new GatewayError('malformed_input', `the body ${parsed.reason}`));
      return;
    }
    res.locals['unsignedBody'] = parsed.value;
    next();
  });
}

export function enrolmentRoutes(deps: EnrolmentRouteDependencies): Router {
  const router = Router();
  const operatorWrites = signedRequest(deps.authenticator, ['operator'], BODY_LIMITS.subscription);
  const operatorReads = signedRequest(deps.authenticator, ['operator'], BODY_LIMITS.none);

  router.post('/v1/enrolment-codes', ...operatorWrites, async function issueEnrolmentCode(req: Request, res: Response) {
    const { uscc, name, hours } = jsonBodyOf(req, res);
    if (typeof uscc !== 'string' || typeof name !== 'string' || (hours !== undefined && typeof hours !== 'number')) {
      throw new GatewayError('invalid_argument', 'the body must be {"uscc": string, "name": string, "hours"?: integer}');
    }
    const issued = await deps.enrolment.issue({ uscc, name, hours }, principalOf(res).participantId);
    res.status(201).json({ code_id: issued.codeId, code: issued.code, uscc: issued.uscc, name: issued.name, expires_at: issued.expiresAt });
  });

  router.get('/v1/enrolment-codes', ...operatorReads, async function listEnrolmentCodes(_req: Request, res: Response) {
    const codes = await deps.enrolment.list();
    res.json({
      codes: codes.map((code) => ({
        code_id: code.codeId, uscc: code.uscc, name: code.name, issued_by: code.issuedBy, issued_at: code.issuedAt,
        expires_at: code.expiresAt, used_at: code.usedAt ?? null, used_by: code.usedBy ?? null,
      })),
    });
  });

  router.post('/v1/enrolments', readUnsignedJson, async function redeemEnrolmentCode(_req: Request, res: Response) {
    const { proof } = res.locals['unsignedBody'] as Record<string, unknown>;
    if (typeof proof !== 'string') throw new GatewayError('enrolment_proof_invalid', 'the body must be {"proof": "<compact JWS>"}');
    const participant = await deps.enrolment.redeem(proof);
    res.status(201).json({
      participant_id: participant.participantId, uscc: participant.uscc, name: participant.name,
      certificate: participant.certificatePem, certificate_sha256: participant.certificateSha256, not_after: participant.notAfter,
    });
  });

  return router;
}
