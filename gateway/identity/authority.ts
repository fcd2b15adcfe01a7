/**
 * The platform's root CA on disk: `ca.key.pem` (0600) and `ca.cert.pem` in the keys directory. Created once by
 * `gateway init`, never overwritten; every participant certificate and the TLS server certificate come from it.
 */
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
  return { privateKeyPem: read(CA_FILES.key), certificatePem: read(CA_FILES.certificate) };
}
