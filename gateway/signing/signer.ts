/**
 * What the gateway says, it signs: receipts, consent receipts, answers, alerts and uplink manifests are compact JWS (ES256) with the
 * gateway as issuer, the participant they are for as audience, and an expiry within the signing key's publication
 * period, so that anyone holding the JWKS can check them later without asking the gateway.
 */
import { randomUUID } from 'node:crypto';
import { GATEWAY_ALGORITHM, signJws } from '../crypto/jws.js';
import type { SigningKeySet } from '../keys/index.js';

const DAY_SECONDS = 86_400;

/** The `typ` of each kind of document the gateway signs (RFC 8725 §3.11: explicit typing). */
export const SIGNED_TYPES = {
  ingestReceipt: 'gateway-ingest-receipt+jwt',
  consentReceipt: 'gateway-consent-receipt+jwt',
  verification: 'gateway-verification+jwt',
  alert: 'gateway-alert+jwt',
  report: 'gateway-report+jwt',
  score: 'gateway-score+jwt',
  backtest: 'gateway-backtest+jwt',
  supportEligibility: 'gateway-support-eligibility+jwt',
  supportCounts: 'gateway-support-counts+jwt',
  misuseFlag: 'gateway-misuse-flag+jwt',
  uplinkManifest: 'gateway-uplink-manifest+jwt',
} as const;

export type SignedType = (typeof SIGNED_TYPES)[keyof typeof SIGNED_TYPES];

export interface GatewaySigner {
  /** Signs `claims` for `audience`; returns the compact JWS. */
  sign(typ: SignedType, audience: string, claims: Readonly<Record<string, unknown>>): Promise<string>;
}

export interface SignerOptions {
  readonly keys: SigningKeySet;
  /** The gateway's name (GATEWAY_ID). */
  readonly issuer: string;
  readonly lifetimeDays: number;
  readonly now?: () => Date;
}

export function createGatewaySigner(options: SignerOptions): GatewaySigner {
  const now = options.now ?? (() => new Date());
  return {
    async sign(typ, audience, claims) {
      const iat = Math.floor(now().getTime() / 1000);
      const { kid, key } = options.keys.current();
      const payload = {
        iss: options.issuer,
        aud: audience,
        iat,
        exp: iat + options.lifetimeDays * DAY_SECONDS,
        jti: randomUUID(),
        ...claims,
      };
      return signJws(Buffer.from(JSON.stringify(payload)), { alg: GATEWAY_ALGORITHM, typ, kid }, key);
    },
  };
}
