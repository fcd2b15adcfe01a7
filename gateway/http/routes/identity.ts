/**
 * Identity documents. Public, because anyone checking a signature needs them: the platform root certificate, the
 * gateway's signing keys (JWKS) and a discovery document telling a client the audience and rules for signing
 * requests. A participant's certificate and status only to participants (a signed request): participant ids are
 * chosen by the operator and easy to guess, and the certificate names the organisation, its USCC and its status,
 * so a public endpoint would let anyone list who takes part and who was suspended.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { REQUEST_ALGORITHMS } from '../../crypto/jws.js';
import { GatewayError } from '../../errors/index.js';
import { MAX_REQUEST_LIFETIME_SECONDS, PARTICIPANT_ID } from '../../identity/index.js';
import type { ParticipantRegistry, RequestAuthenticator } from '../../identity/index.js';
import { PARTICIPANT_ROLES } from '../../identity/index.js';
import type { SigningKeySet } from '../../keys/index.js';
import type { AuditRuntime } from '../../runtime/index.js';
import { BODY_LIMITS, signedRequest } from '../signedRequest.js';

export interface IdentityDependencies {
  readonly gatewayId: string;
  readonly clockSkewSeconds: number;
  readonly caCertificatePem: string;
  readonly participants: ParticipantRegistry;
  readonly signingKeys: SigningKeySet;
  readonly audit: AuditRuntime;
  readonly authenticator: RequestAuthenticator;
}

/** Clients may cache the key set this long; a rotated-in key is published before anything is signed with it only after this. */
const JWKS_MAX_AGE_SECONDS = 300;

export function identityRoutes(deps: IdentityDependencies): Router {
  const router = Router();
  router.get('/.well-known/credit-gateway', function discovery(_req: Request, res: Response) {
    res.json({
      gateway_id: deps.gatewayId,
      jwks_uri: '/.well-known/jwks.json',
      ca_uri: '/v1/ca',
      request_signing: {
        authorization_scheme: 'JWS',
        typ: 'gateway-request+jwt',
        algorithms: REQUEST_ALGORITHMS,
        audience: deps.gatewayId,
        max_lifetime_seconds: MAX_REQUEST_LIFETIME_SECONDS,
        clock_skew_seconds: deps.clockSkewSeconds,
        documentation: 'docs/request-signing.md',
      },
      audit_log: {
        origin: deps.audit.noteKey.origin,
        note_verifier_key: deps.audit.noteKey.verifierKey,
        checkpoint_uri: '/v1/audit/checkpoint',
        documentation: 'docs/audit.md',
      },
    });
  });
  router.get('/.well-known/jwks.json', function jwks(_req: Request, res: Response) {
    res.set('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    res.type('application/jwk-set+json').send(JSON.stringify({ keys: deps.signingKeys.published() }));
  });
  router.get('/v1/ca', function rootCertificate(_req: Request, res: Response) {
    res.set('Cache-Control', 'public, max-age=3600');
    res.type('application/x-pem-file').send(deps.caCertificatePem);
  });
  router.get('/v1/participants/:participantId/certificate', ...signedRequest(deps.authenticator, PARTICIPANT_ROLES, BODY_LIMITS.none), async function participantCertificate(req: Request, res: Response) {
    const participantId = String(req.params['participantId']);
    const participant = PARTICIPANT_ID.test(participantId) ? await deps.participants.get(participantId) : undefined;
    if (!participant) throw new GatewayError('not_found', 'no participant with this id');
    res.set('Cache-Control', 'no-cache');
    res.json({
      participant_id: participant.participantId,
      role: participant.role,
      status: participant.status,
      status_changed_at: participant.statusChangedAt,
      certificate: participant.certificatePem,
      certificate_sha256: participant.certificateSha256,
      not_after: participant.notAfter,
    });
  });
  return router;
}
