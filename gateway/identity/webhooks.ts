/**
 * Banks' webhook endpoints, registered by the operator on the participant: a URL and a per-endpoint secret that
 * signs every delivery (Standard Webhooks). The secret is generated here, shown to the operator once to hand to the
 * bank, and can be rotated; the URL must be HTTPS, or HTTP on a loopback address (development and tests).
 */
import type { AuditLog } from '../audit/index.js';
import { newWebhookSecret } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { IdentityStore, MonitorStore } from '../store/index.js';

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

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const MAX_URL_LENGTH = 2048;

function checkUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GatewayError('invalid_argument', 'the webhook URL is not a URL');
  }
  if (raw.length > MAX_URL_LENGTH) throw new GatewayError('invalid_argument', `the webhook URL is longer than ${MAX_URL_LENGTH} characters`);
  if (url.username || url.password) throw new GatewayError('invalid_argument', 'the webhook URL must not carry credentials');
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || /^127\./.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new GatewayError('invalid_argument', 'the webhook URL must be https (http only on a loopback address)');
  }
  return url.toString();
}

export async function configureWebhook(
  deps: { store: IdentityStore & MonitorStore; audit: AuditLog; now?: () => Date }, participantId: string, change: WebhookChange,
): Promise<WebhookResult> {
  const participant = deps.store.getParticipant(participantId);
  if (!participant) throw new GatewayError('not_found', `no participant "${participantId}"`);
  if (participant.role !== 'bank') throw new GatewayError('invalid_argument', 'only a bank participant has a webhook');
  const existing = deps.store.getWebhook(participantId);
  if (change.url === undefined && !change.rotateSecret) throw new GatewayError('invalid_argument', 'give --url, --rotate-secret or both');
  if (!existing && change.url === undefined) throw new GatewayError('invalid_argument', 'the participant has no webhook yet: give --url');
  const url = change.url === undefined ? (existing as { url: string }).url : checkUrl(change.url);
  const fresh = !existing || change.rotateSecret ? newWebhookSecret() : undefined;
  const at = (deps.now?.() ?? new Date()).toISOString();
  await deps.audit.append({
    kind: 'webhook.configured',
    actor: 'operator',
    details: { participant: participantId, url, secret_rotated: fresh !== undefined },
  });
  deps.store.setWebhook({ participantId, url, secret: fresh ?? (existing as { secret: string }).secret, createdAt: existing?.createdAt ?? at, updatedAt: at });
  return { participantId, url, secret: fresh, updatedAt: at };
}
