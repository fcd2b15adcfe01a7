/** `gateway init`: create the key material the gateway needs (idempotent), and on request a TLS server certificate. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CRYPTO_PROFILES, isCryptoProfileName } from '../../crypto/profile.js';
import { generateRsaKeyPair, issueServerCertificate } from '../../crypto/x509.js';
import { GatewayError } from '../../errors/index.js';
import { loadAuthority } from '../../identity/index.js';
import { readProfileName } from '../../keys/index.js';
import { initialise } from '../../runtime/index.js';
import { guarded, report } from '../output.js';
import type { CommandContext } from '../context.js';

export const TLS_FILES = { key: path.join('tls', 'server.key.pem'), certificate: path.join('tls', 'server.cert.pem') } as const;
const TLS_DAYS = 397;

interface InitOptions {
  json: boolean;
  cryptoProfile?: string;
  tls: boolean;
  tlsHosts: string;
}

/** Issues the gateway's TLS server certificate from the platform CA, unless one is already there. */
function ensureTlsCertificate(keysDir: string, hosts: readonly string[]): string[] {
  const keyFile = path.join(keysDir, TLS_FILES.key);
  const certificateFile = path.join(keysDir, TLS_FILES.certificate);
  if (fs.existsSync(keyFile) || fs.existsSync(certificateFile)) return [];
  let certificatePem: string;
  const pair = generateRsaKeyPair();
  try {
    certificatePem = issueServerCertificate(loadAuthority(keysDir), { hosts, publicKeyPem: pair.publicKeyPem, days: TLS_DAYS });
  } catch (error) {
    if (error instanceof RangeError) throw new GatewayError('invalid_argument', error.message);
    throw error;
  }
  fs.mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  fs.writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  fs.writeFileSync(certificateFile, certificatePem, { mode: 0o644, flag: 'wx' });
  return [TLS_FILES.key, TLS_FILES.certificate];
}

export function registerInit(init: Command, context: CommandContext): void {
  init
    .option('--tls', 'also issue a TLS server certificate from the platform CA', false)
    .option('--tls-hosts <names>', 'comma-separated host names and IP addresses for the TLS certificate', 'localhost,127.0.0.1,::1')
    .option('--crypto-profile <name>', `the crypto profile new keys are made for: ${CRYPTO_PROFILES.join(' or ')} (国密); as GATEWAY_CRYPTO_PROFILE`)
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (options: InitOptions) => {
      const config = context.config();
      if (options.cryptoProfile !== undefined && !isCryptoProfileName(options.cryptoProfile)) {
        throw new GatewayError('invalid_argument', `--crypto-profile must be one of ${CRYPTO_PROFILES.join(', ')}`);
      }
      const created = await initialise({ ...config, cryptoProfile: options.cryptoProfile ?? config.cryptoProfile });
      if (options.tls) created.push(...ensureTlsCertificate(config.keysDir, options.tlsHosts.split(',').map((host) => host.trim()).filter(Boolean)));
      const tlsHint = options.tls
        ? `\nserve HTTPS with: GATEWAY_TLS_CERT=${path.join(config.keysDir, TLS_FILES.certificate)} GATEWAY_TLS_KEY=${path.join(config.keysDir, TLS_FILES.key)} (add GATEWAY_TLS_CLIENT_CERTS=require for mutual TLS)`
        : '';
      const profile = readProfileName(config.keysDir);
      report(options, { keys_dir: config.keysDir, crypto_profile: profile, created }, () =>
        (created.length > 0 ? `created ${created.join(', ')} in ${config.keysDir}` : `nothing to do: keys already in ${config.keysDir}`) + ` (crypto profile ${profile})` + tlsHint);
    }));
}
