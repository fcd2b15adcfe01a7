/**
 * Misuse flags to the operator's webhook (GATEWAY_MISUSE_WEBHOOK_URL): each flag the scan raised, as a JWS the
 * gateway signs (`gateway-misuse-flag+jwt`, checkable with its JWKS), POSTed to the checked address like a bank's
 * alert (identity/webhookTarget.ts: resolved, pinned, private networks only where allowed). A notification, not the
 * record: the flag is in the audit log before it is sent, `gateway misuse flags` lists it, and one that could not be
 * delivered after a few tries is logged as an error rather than retried for ever.
 */
import type { WebhookTarget } from '../identity/webhookTarget.js';
import { postToTarget } from '../identity/webhookTarget.js';
import type { Logger } from '../observability/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { GatewaySigner } from '../signing/signer.js';
import type { MisuseFlag } from './scanner.js';

export interface MisuseNotifierDependencies {
  readonly url: string;
  readonly signer: GatewaySigner;
  readonly resolveTarget: (url: string) => Promise<WebhookTarget>;
  readonly logger: Logger;
  readonly timeoutMs: number;
  /** Delay before the second try; doubled for each one after (three tries in all). */
  readonly retryMs?: number;
}

export type MisuseNotifier = (flags: readonly MisuseFlag[]) => Promise<void>;

const TRIES = 3;
/** The audience of a flag's JWS: the operator, whoever runs the platform. */
const OPERATOR = 'operator';

export function createMisuseNotifier(deps: MisuseNotifierDependencies): MisuseNotifier {
  const retryMs = deps.retryMs ?? 1000;

  /** Undefined when delivered (2xx), otherwise why not. */
  async function postOnce(jws: string): Promise<string | undefined> {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(new Error('timed out')), deps.timeoutMs);
    try {
      const response = await postToTarget(await deps.resolveTarget(deps.url), { 'content-type': 'application/jose' }, jws, controller.signal);
      return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status} ${response.text}`;
    } catch (error) {
      return (error as Error).message;
    } finally {
      clearTimeout(timeout);
    }
  }

  async function notify(flag: MisuseFlag): Promise<void> {
    const jws = await deps.signer.sign(SIGNED_TYPES.misuseFlag, OPERATOR, {
      audit_index: flag.auditIndex, rule: flag.rule, bank: flag.bank, severity: flag.severity, evidence: flag.evidence,
      window_from: flag.windowFrom, window_to: flag.windowTo, suspended: flag.suspended,
    });
    let failure: string | undefined;
    for (let attempt = 0; attempt < TRIES; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, retryMs * 2 ** (attempt - 1)));
      failure = await postOnce(jws);
      if (failure === undefined) return;
    }
    deps.logger.error({ audit_index: flag.auditIndex, rule: flag.rule, bank: flag.bank, error: failure },
      'the operator\'s misuse webhook did not take the flag; it stays in the audit log (gateway misuse flags)');
  }

  return async (flags) => {
    for (const flag of flags) await notify(flag);
  };
}
