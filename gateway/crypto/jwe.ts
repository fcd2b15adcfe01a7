/**
 * Compact JWE, through jose: what the gateway encrypts to a recipient's public key (the national platform's, for
 * uplink manifests). The key-management algorithm follows the key: ECDH-ES+A256KW for an EC or OKP (X25519) key,
 * RSA-OAEP-256 for an RSA key, or the key's own `alg` when it names one of those; the content is always A256GCM.
 */
import { CompactEncrypt, importJWK } from 'jose';
import type { JWK } from 'jose';
import { GatewayError } from '../errors/index.js';

export const CONTENT_ENCRYPTION = 'A256GCM';
const KEY_MANAGEMENT = ['ECDH-ES+A256KW', 'ECDH-ES+A128KW', 'RSA-OAEP-256'] as const;

export interface EncryptionKey {
  readonly alg: (typeof KEY_MANAGEMENT)[number];
  readonly kid: string | undefined;
  /** What jose imported (a CryptoKey): opaque here. */
  readonly key: Awaited<ReturnType<typeof importJWK>>;
}

function keyManagementFor(jwk: JWK): EncryptionKey['alg'] {
  if (jwk.alg !== undefined) {
    const named = KEY_MANAGEMENT.find((alg) => alg === jwk.alg);
    if (!named) throw new GatewayError('invalid_configuration', `the encryption key's alg ${jwk.alg} is not one of ${KEY_MANAGEMENT.join(', ')}`);
    return named;
  }
  if (jwk.kty === 'EC' || (jwk.kty === 'OKP' && jwk.crv === 'X25519')) return 'ECDH-ES+A256KW';
  if (jwk.kty === 'RSA') return 'RSA-OAEP-256';
  throw new GatewayError('invalid_configuration', `an encryption key must be an EC, X25519 or RSA public key, not kty ${String(jwk.kty)}`);
}

/** Imports a recipient's public JWK; a key with private members is refused: the gateway must never hold the recipient's. */
export async function importEncryptionKey(jwk: JWK): Promise<EncryptionKey> {
  if ('d' in jwk || 'p' in jwk) throw new GatewayError('invalid_configuration', 'the encryption key must be the recipient\'s public key, not its private key');
  if (jwk.use !== undefined && jwk.use !== 'enc') throw new GatewayError('invalid_configuration', `the encryption key is for use "${jwk.use}", not "enc"`);
  const alg = keyManagementFor(jwk);
  try {
    return { alg, kid: jwk.kid, key: await importJWK(jwk, alg) };
  } catch (cause) {
    throw new GatewayError('invalid_configuration', `the encryption key cannot be used with ${alg}`, { cause });
  }
}

/** Encrypts `plaintext` to `recipient`; `contentType` is the `cty` header (`JWT` for a nested, signed-then-encrypted token). */
export async function encryptCompact(plaintext: Uint8Array, recipient: EncryptionKey, contentType: string): Promise<string> {
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: recipient.alg, enc: CONTENT_ENCRYPTION, cty: contentType, ...(recipient.kid ? { kid: recipient.kid } : {}) })
    .encrypt(recipient.key);
}
