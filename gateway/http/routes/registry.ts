/**
 * The participant registry over signed requests, for the portal: an enterprise picks the bank it consents to from
 * the active banks; an operator participant lists every participant and suspends, resumes or revokes one, as
 * `gateway participants` does on the host.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import { PARTICIPANT_ID } from '../../identity/index.js';
import type { ParticipantRegistry, RequestAuthenticator, StatusChange } from '../../identity/index.js';
import type { ParticipantRecord } from '../../store/index.js';
import { BODY_LIMITS, jsonBodyOf, signedRequest } from '../signedRequest.js';

export interface RegistryRouteDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly participants: ParticipantRegistry;
}

const CHANGES: readonly StatusChange[] = ['suspend', 'resume', 'revoke'];

function summary(participant: ParticipantRecord) {
  return {
    participant_id: participant.participantId, role: participant.role, name: participant.name, status: participant.status,
    uscc: participant.uscc ?? null, datasets: participant.datasets, certificate_sha256: participant.certificateSha256,
    not_after: participant.notAfter, created_at: participant.createdAt, status_changed_at: participant.statusChangedAt,
  };
}

export function registryRoutes(deps: RegistryRouteDependencies): Router {
  const router = Router();
  const enterprises = signedRequest(deps.authenticator, ['enterprise'], BODY_LIMITS.none);
  const operatorReads = signedRequest(deps.authenticator, ['operator'], BODY_LIMITS.none);
  const operatorWrites = signedRequest(deps.authenticator, ['operator'], BODY_LIMITS.subscription);

  router.get('/v1/banks', ...enterprises, function listBanks(_req: Request, res: Response) {
    const banks = deps.participants.list().filter((participant) => participant.role === 'bank' && participant.status === 'active');
    res.json({ banks: banks.map((bank) => ({ participant_id: bank.participantId, name: bank.name })) });
  });

  router.get('/v1/participants', ...operatorReads, function listParticipants(_req: Request, res: Response) {
    res.json({ participants: deps.participants.list().map(summary) });
  });

  router.post('/v1/participants/:participantId/status', ...operatorWrites, async function changeParticipantStatus(req: Request, res: Response) {
    const participantId = String(req.params['participantId']);
    if (!PARTICIPANT_ID.test(participantId)) throw new GatewayError('not_found', 'no participant with this id');
    const { change } = jsonBodyOf(req, res);
    if (typeof change !== 'string' || !(CHANGES as readonly string[]).includes(change)) {
      throw new GatewayError('invalid_argument', `change must be one of ${CHANGES.join(', ')}`);
    }
    res.json(summary(await deps.participants.changeStatus(participantId, change as StatusChange)));
  });

  return router;
}
