/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/), through the `standardwebhooks` library: the
 * HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>` with the endpoint's secret, and fresh secrets in the
 * `whsec_<base64>` form receivers' libraries expect.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const SECRET_BYTES = 32;

/** A new endpoint secret, `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The `webhook-signature` header value for one delivery. */
export function signWebhook(secret: string, messageId: string, timestamp: Date, body: string): string {
  return new Webhook(secret).sign(messageId, timestamp, body);
}
