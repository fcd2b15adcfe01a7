/**
 * The participant registry over signed requests, for the portal: an enterprise picks the bank it consents to from
 * the active banks; an operator participant adds one from its CSR, lists every participant and suspends, resumes or
 * revokes one, as `gateway participants` does on the host.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import { PARTICIPANT_ID } from '../../identity/index.js';
import { publicKeyOfCsr } from '../../identity/csr.js';
import type { ParticipantRegistry, RequestAuthenticator, StatusChange } from '../../identity/index.js';
import type { ParticipantRecord } from '../../store/index.js';
import { BODY_LIMITS, jsonBodyOf, signedRequest } from '../signedRequest.js';

export interface RegistryRouteDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly participants: ParticipantRegistry;
}

const CHANGES: readonly StatusChange[] = ['suspend', 'resume', 'revoke'];
/** A CSR (the x509 module's own bound is 16 KiB) and a few fields. */
const CSR_BODY_BYTES = 24 * 1024;
/** As `gateway participants add --days`. */
const DEFAULT_DAYS = 365;

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
  const operatorCsr = signedRequest(deps.authenticator, ['operator'], CSR_BODY_BYTES);

  router.get('/v1/banks', ...enterprises, async function listBanks(_req: Request, res: Response) {
    const banks = (await deps.participants.list()).filter((participant) => participant.role === 'bank' && participant.status === 'active');
    res.json({ banks: banks.map((bank) => ({ participant_id: bank.participantId, name: bank.name })) });
  });

  router.get('/v1/participants', ...operatorReads, async function listParticipants(_req: Request, res: Response) {
    res.json({ participants: (await deps.participants.list()).map(summary) });
  });

  router.post('/v1/participants', ...operatorCsr, async function addParticipant(req: Request, res: Response) {
    const { role, name, uscc, datasets, csr, days } = jsonBodyOf(req, res);
    if (typeof role !== 'string' || typeof name !== 'string' || typeof csr !== 'string'
      || (uscc !== undefined && typeof uscc !== 'string') || (days !== undefined && typeof days !== 'number')
      || (datasets !== undefined && !(Array.isArray(datasets) && datasets.every((dataset) => typeof dataset === 'string')))) {
      throw new GatewayError('invalid_argument', 'the body must be {"role", "name", "csr" (PEM), "uscc"?, "datasets"?, "days"?}');
    }
    const participant = await deps.participants.add({
      role, name, uscc, datasets: datasets as string[] | undefined, publicKeyPem: publicKeyOfCsr(csr), certificateDays: days ?? DEFAULT_DAYS,
    });
    res.status(201).json({ ...summary(participant), certificate: participant.certificatePem });
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
