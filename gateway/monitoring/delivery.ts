/**
 * Webhook delivery, inside the gateway process, from the outbox: at least once, never blocking requests.
 *
 * Each bank has its own lane: the worker looks for banks with due events and runs at most one lane per bank, which
 * sends that bank's due events with bounded concurrency. A slow or dead receiver occupies only its own lane, so
 * other banks' alerts go out regardless. A delivery is a POST of the event's JWS with Standard Webhooks headers
 * (`webhook-id` = event id, `webhook-timestamp`, `webhook-signature` with the bank's endpoint secret); any 2xx is
 * success. A failure is retried with exponential backoff and jitter until the retry horizon, after which the event
 * is dead-lettered for the operator (`gateway alerts list|replay`). Everything lives in the outbox, so a restart —
 * even after SIGKILL — resumes where it stopped; an event whose delivery was cut off is sent again (receivers
 * deduplicate by `webhook-id`).
 *
 * Before each delivery the URL's host is resolved and its addresses checked again (identity/webhookTarget.ts), and
 * the connection goes to the checked address: DNS that changes between the check and the connect cannot send an
 * alert, or the bank's secret, to an internal address.
 */
import type { AlertDeliveryConfig } from '../config/index.js';
import { signWebhook } from '../crypto/index.js';
import { postToTarget } from '../identity/webhookTarget.js';
import type { WebhookTarget } from '../identity/webhookTarget.js';
import type { Logger } from '../observability/index.js';
import type { Coordination, MonitorStore, OutboxEvent, WebhookRecord } from '../store/index.js';
import type { EventSigner } from './events.js';

export interface DeliveryWorker {
  start(): void;
  /** Looks at the outbox now (new events were written). */
  nudge(): void;
  /** Stops taking work, cuts off deliveries in flight (they stay pending) and waits for the lanes to finish. */
  stop(): Promise<void>;
}

export interface DeliveryDependencies {
  readonly store: MonitorStore & Coordination;
  readonly events: EventSigner;
  readonly config: AlertDeliveryConfig;
  readonly logger: Logger;
  /** The webhook's secret, opened from its sealed form. */
  readonly openSecret: (webhook: WebhookRecord) => Promise<string>;
  /** Resolves and checks the URL's host; throws when it may not receive webhooks. */
  readonly resolveTarget: (url: string) => Promise<WebhookTarget>;
  /** Runs on every poll before deliveries (the subscription sweep). */
  readonly housekeeping?: (() => Promise<void>) | undefined;
  readonly now?: () => number;
  readonly random?: () => number;
}


/** The delay before attempt `attempts + 1`: exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffMs(attempts: number, config: Pick<AlertDeliveryConfig, 'baseBackoffMs' | 'maxBackoffMs'>, random: () => number): number {
  const ceiling = Math.min(config.maxBackoffMs, config.baseBackoffMs * 2 ** Math.min(attempts - 1, 40));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A failed request as one line: the message, and the system error code when the message does not already say it. */
export function describeFailure(error: unknown): string {
  const code = (error as { code?: string }).code;
  return `${(error as Error).message}${code && !(error as Error).message.includes(code) ? ` (${code})` : ''}`;
}

export function createDeliveryWorker(deps: DeliveryDependencies): DeliveryWorker {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const lanes = new Map<string, Promise<void>>();
  const inFlight = new Set<AbortController>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let scanning = false;
  let rescan = false;

  async function post(event: OutboxEvent, jws: string, url: string, secret: string): Promise<string | undefined> {
    const controller = new AbortController();
    inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(new Error('timed out')), deps.config.timeoutMs);
    try {
      const target = await deps.resolveTarget(url);
      const timestamp = new Date(Math.floor(now() / 1000) * 1000);
      const response = await postToTarget(target, {
        'content-type': 'application/jose',
        'webhook-id': event.eventId,
        'webhook-timestamp': String(timestamp.getTime() / 1000),
        'webhook-signature': signWebhook(secret, event.eventId, timestamp, jws),
      }, jws, controller.signal);
      return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status} ${response.text}`;
    } catch (error) {
      return describeFailure(error);
    } finally {
      clearTimeout(timeout);
      inFlight.delete(controller);
    }
  }

  async function deliver(event: OutboxEvent, url: string, secret: string): Promise<void> {
    const jws = await deps.events.signed(event);
    if (!running) return;
    const failure = await post(event, jws, url, secret);
    // Cut off by stop(): neither success nor a counted failure; it is sent again after the restart.
    if (!running) return;
    if (failure === undefined) {
      await deps.store.markEventDelivered(event.eventId, new Date(now()).toISOString());
      return;
    }
    const attempts = event.attempts + 1;
    const at = now();
    const deadline = event.retryFrom + deps.config.retryHorizonMs;
    const dead = at >= deadline;
    const nextAttemptAt = Math.min(at + backoffMs(attempts, deps.config, random), deadline);
    await deps.store.markEventFailed(event.eventId, { attempts, nextAttemptAt, error: failure, dead });
    if (dead) deps.logger.warn({ event_id: event.eventId, bank: event.bankId, attempts, error: failure }, 'alert dead-lettered');
  }

  async function lane(bankId: string): Promise<void> {
    while (running) {
      const webhook = await deps.store.getWebhook(bankId);
      if (!webhook) return;
      const due = await deps.store.dueEvents(bankId, now(), deps.config.concurrencyPerBank * 4);
      if (due.length === 0) return;
      let next = 0;
      const worker = async () => {
        while (running && next < due.length) {
          const event = due[next++] as OutboxEvent;
          // Read per delivery: after a rotation or a new URL, not one more delivery goes out with the old ones.
          const current = await deps.store.getWebhook(bankId);
          if (!current) return;
          await deliver(event, current.url, await deps.openSecret(current));
        }
      };
      await Promise.all(Array.from({ length: Math.min(deps.config.concurrencyPerBank, due.length) }, worker));
    }
  }

  async function scan(): Promise<void> {
    if (!running) return;
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = true;
    try {
      // One process on the database sends alerts, so that no event goes out twice from two instances at once.
      if (!(await deps.store.leads('alert-delivery'))) return;
      await deps.housekeeping?.();
      for (const bankId of await deps.store.banksWithDueEvents(now())) {
        if (lanes.has(bankId)) continue;
        const run = lane(bankId)
          .catch((error: unknown) => deps.logger.error({ err: error, bank: bankId }, 'alert delivery lane failed; retrying at the next poll'))
          .finally(() => {
            lanes.delete(bankId);
            // Events may have become due while the lane ran.
            if (running) setImmediate(scan);
          });
        lanes.set(bankId, run);
      }
    } catch (error) {
      deps.logger.error({ err: error }, 'alert outbox scan failed; retrying at the next poll');
    } finally {
      scanning = false;
    }
    if (rescan) {
      rescan = false;
      setImmediate(scan);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      timer = setInterval(scan, deps.config.pollMs);
      timer.unref();
      setImmediate(scan);
    },
    nudge() {
      if (running) void scan();
    },
    async stop() {
      running = false;
      if (timer) clearInterval(timer);
      for (const controller of inFlight) controller.abort(new Error('gateway stopping'));
      await Promise.all(lanes.values());
    },
  };
}
