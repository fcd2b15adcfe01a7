/**
 * The platform's root CA on disk: `ca.key.pem` (0600) and `ca.cert.pem` in the keys directory. Created once by
 * `gateway init`, never overwritten; every participant certificate and the TLS server certificate come from it.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createCertificateAuthority } from '../crypto/x509.js';
import type { CertificateAuthority } from '../crypto/x509.js';
import { GatewayError } from '../errors/index.js';

export const CA_FILES = { key: 'ca.key.pem', certificate: 'ca.cert.pem' } as const;

/** Creates the CA if absent; returns the files it created. */
export function ensureAuthority(keysDir: string, gatewayId: string): string[] {
  const keyFile = path.join(keysDir, CA_FILES.key);
  const certificateFile = path.join(keysDir, CA_FILES.certificate);
  if (fs.existsSync(keyFile) || fs.existsSync(certificateFile)) return [];
  fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const ca = createCertificateAuthority({ commonName: `${gatewayId} root CA` });
  // The key first, exclusively: a second `init` racing this one fails instead of pairing keys and certificates wrongly.
  fs.writeFileSync(keyFile, ca.privateKeyPem, { mode: 0o600, flag: 'wx' });
  fs.writeFileSync(certificateFile, ca.certificatePem, { mode: 0o644, flag: 'wx' });
  return [CA_FILES.key, CA_FILES.certificate];
}

export function loadAuthority(keysDir: string): CertificateAuthority {
  const read = (file: string) => {
    try {
      return fs.readFileSync(path.join(keysDir, file), 'utf8');
    } catch (cause) {
      throw new GatewayError('key_material_missing', `${path.join(keysDir, file)} is missing: run \`gateway init\``, { cause });
    }
  };
  const authority = { privateKeyPem: read(CA_FILES.key), certificatePem: read(CA_FILES.certificate) };
  checkAuthorityPair(keysDir, authority);
  return authority;
}

/** The CA key must be the one its certificate certifies, or every certificate issued with it would not verify. */
function checkAuthorityPair(keysDir: string, authority: CertificateAuthority): void {
  const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(createPrivateKey(authority.privateKeyPem))).equals(spki(new X509Certificate(authority.certificatePem).publicKey))) {
    throw new GatewayError('key_mismatch',
      `${path.join(keysDir, CA_FILES.key)} is not the private key of ${path.join(keysDir, CA_FILES.certificate)}: nothing is issued with it; `
      + 'restore both from your backup of the keys directory', { details: { key_file: path.join(keysDir, CA_FILES.key) } });
  }
}

/** The platform CA's certificate alone: what a serving process needs (its private key is read only to issue). */
export function loadAuthorityCertificate(keysDir: string): string {
  const file = path.join(keysDir, CA_FILES.certificate);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new GatewayError('key_material_missing', `${file} is missing: run \`gateway init\``, { cause });
  }
}
