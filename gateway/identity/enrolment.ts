/**
 * Enrolment of a participant whose key the gateway generates: development participants (`--generate`, and the
 * ones `npm start` creates for the README's "try it"). The private key is written to the keys directory (0600)
 * before the participant is registered, so a failure leaves no registered participant without its key.
 */
import fs from 'node:fs';
import { generateRsaKeyPair } from '../crypto/x509.js';
import { GatewayError } from '../errors/index.js';
import type { ParticipantRecord } from '../store/index.js';
import { participantFiles, writeParticipantCertificate, writeParticipantKey } from './participantFiles.js';
import type { NewParticipant, ParticipantRegistry } from './participants.js';

export async function enrolWithGeneratedKey(
  registry: ParticipantRegistry, keysDir: string, participant: Omit<NewParticipant, 'publicKeyPem'> & { participantId: string },
): Promise<ParticipantRecord> {
  if (await registry.get(participant.participantId)) throw new GatewayError('participant_exists', `participant "${participant.participantId}" already exists`);
  const pair = generateRsaKeyPair();
  const files = writeParticipantKey(keysDir, participant.participantId, pair.privateKeyPem);
  try {
    const record = await registry.add({ ...participant, publicKeyPem: pair.publicKeyPem });
    writeParticipantCertificate(keysDir, record.participantId, record.certificatePem);
    return record;
  } catch (error) {
    fs.rmSync(files.keyFile, { force: true });
    throw error;
  }
}

export const DEV_PARTICIPANT_IDS = { source: 'dev-source', enterprise: 'dev-enterprise', bank: 'dev-bank', auditor: 'dev-auditor', operator: 'dev-operator' } as const;

/**
 * One participant of each role for trying the gateway out, created only in an empty registry. Their keys are in
 * the keys directory (git-ignored): development only.
 */
export async function ensureDevParticipants(
  registry: ParticipantRegistry, keysDir: string, options: { enterpriseUscc: string; enterpriseName: string; datasets: readonly string[] },
): Promise<ParticipantRecord[]> {
  if ((await registry.list()).length > 0) return [];
  const days = 365;
  for (const id of Object.values(DEV_PARTICIPANT_IDS)) fs.rmSync(participantFiles(keysDir, id).keyFile, { force: true });
  return [
    await enrolWithGeneratedKey(registry, keysDir, { participantId: DEV_PARTICIPANT_IDS.source, role: 'source', name: 'Development data source', datasets: options.datasets, certificateDays: days }),
    await enrolWithGeneratedKey(registry, keysDir, { participantId: DEV_PARTICIPANT_IDS.enterprise, role: 'enterprise', name: options.enterpriseName, uscc: options.enterpriseUscc, certificateDays: days }),
    await enrolWithGeneratedKey(registry, keysDir, { participantId: DEV_PARTICIPANT_IDS.bank, role: 'bank', name: 'Development bank', certificateDays: days }),
    await enrolWithGeneratedKey(registry, keysDir, { participantId: DEV_PARTICIPANT_IDS.auditor, role: 'auditor', name: 'Development auditor', certificateDays: days }),
    // Signs in to the portal with its key file, to issue enrolment codes there.
    await enrolWithGeneratedKey(registry, keysDir, { participantId: DEV_PARTICIPANT_IDS.operator, role: 'operator', name: 'Development operator', certificateDays: days }),
  ];
}
