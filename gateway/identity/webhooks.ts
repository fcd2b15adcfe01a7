/**
 * Banks' webhook endpoints, registered by the operator on the participant: a URL and a per-endpoint secret that
 * signs every delivery (Standard Webhooks). The secret is generated here, shown to the operator once to hand to the
 * bank, and can be rotated. At rest it is sealed with the current data key (AES-256-GCM, bound to the participant),
 * like a record: the database file alone does not let anyone sign alerts. The URL must resolve to addresses a
 * webhook may go to (webhookTarget.ts).
 */
import type { AuditLog } from '../audit/index.js';
import { newWebhookSecret, openRecord, randomNonces, sealedKeyId, sealRecord } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { DataKeyring } from '../keys/index.js';
import type { IdentityStore, MonitorStore, WebhookRecord } from '../store/index.js';
import { resolveWebhookTarget, systemResolver } from './webhookTarget.js';
import type { AllowedNetworks, Resolver } from './webhookTarget.js';

export interface WebhookChange {
  readonly url?: string | undefined;
  readonly rotateSecret?: boolean | undefined;
}

export interface WebhookResult {
  readonly participantId: string;
  readonly url: string;
  /** Only when it was just created or rotated. */
  readonly secret: string | undefined;
  readonly updatedAt: string;
}

export interface WebhookDependencies {
  readonly store: IdentityStore & MonitorStore;
  readonly audit: AuditLog;
  readonly keyring: DataKeyring;
  readonly allowedNetworks: AllowedNetworks;
  readonly resolve?: Resolver | undefined;
  readonly now?: () => Date;
}

/** How a sealed secret is stored: this prefix, then the sealed bytes in base64. */
const SEALED = 'sealed:';

function associatedData(participantId: string): Buffer {
  return Buffer.from(`webhook-secret\u001f${participantId}`, 'utf8');
}

/** The secret sealed with the current data key, for the store. */
export function sealWebhookSecret(keyring: DataKeyring, participantId: string, secret: string): string {
  const sealed = sealRecord(keyring.current(), associatedData(participantId), Buffer.from(secret, 'utf8'), randomNonces(1));
  return `${SEALED}${sealed.toString('base64')}`;
}

/** The data key a stored secret is sealed under; none for one not sealed yet (sealed at the next start). */
export function webhookSecretKeyId(webhook: Pick<WebhookRecord, 'secret'>): number | undefined {
  return webhook.secret.startsWith(SEALED) ? sealedKeyId(Buffer.from(webhook.secret.slice(SEALED.length), 'base64')) : undefined;
}

/** The stored secret opened; one that is not sealed, or sealed for another participant, is refused. */
export async function openWebhookSecret(keyring: DataKeyring, webhook: Pick<WebhookRecord, 'participantId' | 'secret'>): Promise<string> {
  if (!webhook.secret.startsWith(SEALED)) {
    throw new GatewayError('key_material_missing', `the webhook secret of ${webhook.participantId} is not sealed; restart the gateway to seal it`);
  }
  const sealed = Buffer.from(webhook.secret.slice(SEALED.length), 'base64');
  const key = await keyring.get(sealedKeyId(sealed));
  return openRecord(() => key, associatedData(webhook.participantId), sealed).toString('utf8');
}

/** Seals the secrets an older gateway stored in the clear; returns how many. Run when the gateway opens. */
export async function sealClearWebhookSecrets(store: MonitorStore, keyring: DataKeyring): Promise<number> {
  let sealed = 0;
  for (const webhook of await store.listWebhooks()) {
    if (webhook.secret.startsWith(SEALED)) continue;
    await store.setWebhook({ ...webhook, secret: sealWebhookSecret(keyring, webhook.participantId, webhook.secret) });
    sealed++;
  }
  return sealed;
}

export async function configureWebhook(deps: WebhookDependencies, participantId: string, change: WebhookChange): Promise<WebhookResult> {
  const participant = await deps.store.getParticipant(participantId);
  if (!participant) throw new GatewayError('not_found', `no participant "${participantId}"`);
  if (participant.role !== 'bank') throw new GatewayError('invalid_argument', 'only a bank participant has a webhook');
  const existing = await deps.store.getWebhook(participantId);
  if (change.url === undefined && !change.rotateSecret) throw new GatewayError('invalid_argument', 'give --url, --rotate-secret or both');
  if (!existing && change.url === undefined) throw new GatewayError('invalid_argument', 'the participant has no webhook yet: give --url');
  const url = change.url === undefined
    ? (existing as WebhookRecord).url
    : (await resolveWebhookTarget(change.url, deps.allowedNetworks, deps.resolve ?? systemResolver)).url.toString();
  const fresh = !existing || change.rotateSecret ? newWebhookSecret() : undefined;
  const at = (deps.now?.() ?? new Date()).toISOString();
  await deps.audit.append({
    kind: 'webhook.configured',
    actor: 'operator',
    details: { participant: participantId, url, secret_rotated: fresh !== undefined },
  });
  await deps.store.setWebhook({
    participantId, url, secret: fresh === undefined ? (existing as WebhookRecord).secret : sealWebhookSecret(deps.keyring, participantId, fresh),
    createdAt: existing?.createdAt ?? at, updatedAt: at,
  });
  return { participantId, url, secret: fresh, updatedAt: at };
}
