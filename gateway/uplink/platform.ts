/**
 * What the gateway holds of the national platform (docs/uplink.md): the public key manifests are encrypted to and
 * the keys its receipts are verified with, both read from the files the operator names, and the check of a receipt.
 */
import fs from 'node:fs';
import type { UplinkConfig } from '../config/index.js';
import { encryptCompact, importEncryptionKey } from '../crypto/jwe.js';
import type { EncryptionKey } from '../crypto/jwe.js';
import { JwsError, verifyWithPeerKeys } from '../crypto/jws.js';
import type { JSONWebKeySet, JWK } from '../crypto/jws.js';
import { GatewayError } from '../errors/index.js';

/** The `typ` the platform's receipts carry (explicit typing, RFC 8725 §3.11): a receipt is not any JWS it signs. */
export const RECEIPT_TYPE = 'uplink-receipt+jwt';

/** What a receipt says: the platform has the manifest, about the batch with this content, since `received_at`. */
export interface ReceiptClaims {
  readonly manifest_id: string;
  readonly content_sha256: string;
  readonly received_at: string;
}

export interface Platform {
  /** Encrypts a signed manifest (compact JWS) to the platform's key: a nested JWT, signed then encrypted. */
  seal(signedManifest: string): Promise<string>;
  /** The receipt's claims once its signature, type and content match the manifest; throws ReceiptError otherwise. */
  checkReceipt(receipt: string, expected: { manifestId: string; contentSha256: string }): Promise<ReceiptClaims>;
}

/** Why a 2xx answer is not an acknowledgement. */
export class ReceiptError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReceiptError';
  }
}

function readJson(file: string, variable: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (cause) {
    throw new GatewayError('invalid_configuration', `${variable}: ${file} is not a readable JSON file`, { cause });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JWK file or a JWKS file, as a key set of public keys. */
function receiptKeySet(file: string): JSONWebKeySet {
  const parsed = readJson(file, 'GATEWAY_UPLINK_RECEIPT_KEY');
  const keys = isObject(parsed) && Array.isArray(parsed['keys']) ? parsed['keys'] : [parsed];
  if (keys.length === 0 || !keys.every((key) => isObject(key) && typeof key['kty'] === 'string' && !('d' in key))) {
    throw new GatewayError('invalid_configuration', `GATEWAY_UPLINK_RECEIPT_KEY: ${file} must hold public JWKs (a JWK, or a JWKS of them)`);
  }
  return { keys: keys as JWK[] };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export async function openPlatform(config: UplinkConfig): Promise<Platform> {
  const parsed = readJson(config.encryptionKeyFile, 'GATEWAY_UPLINK_KEY');
  if (!isObject(parsed)) throw new GatewayError('invalid_configuration', `GATEWAY_UPLINK_KEY: ${config.encryptionKeyFile} must hold one JWK`);
  const recipient: EncryptionKey = await importEncryptionKey(parsed as JWK);
  const receiptKeys = receiptKeySet(config.receiptKeyFile);
  return {
    seal: (signedManifest) => encryptCompact(Buffer.from(signedManifest, 'utf8'), recipient, 'JWT'),
    async checkReceipt(receipt, expected) {
      let verified;
      try {
        verified = await verifyWithPeerKeys(receipt, receiptKeys);
      } catch (error) {
        if (error instanceof JwsError) throw new ReceiptError(`the receipt does not verify (${error.reason})`, { cause: error });
        throw error;
      }
      if (verified.header.typ !== RECEIPT_TYPE) throw new ReceiptError(`the receipt's typ is ${String(verified.header.typ)}, not ${RECEIPT_TYPE}`);
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(verified.payload).toString('utf8'));
      } catch (cause) {
        throw new ReceiptError('the receipt\'s payload is not JSON', { cause });
      }
      if (!isObject(claims) || typeof claims['received_at'] !== 'string' || !RFC3339.test(claims['received_at']) || Number.isNaN(Date.parse(claims['received_at']))) {
        throw new ReceiptError('the receipt has no RFC 3339 received_at');
      }
      if (claims['manifest_id'] !== expected.manifestId) throw new ReceiptError('the receipt is for another manifest');
      if (claims['content_sha256'] !== expected.contentSha256) throw new ReceiptError('the receipt names another content hash');
      return { manifest_id: expected.manifestId, content_sha256: expected.contentSha256, received_at: claims['received_at'] };
    },
  };
}
