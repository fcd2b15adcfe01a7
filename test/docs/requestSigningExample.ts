/**
 * The worked example of docs/request-signing.md: its fixed inputs (shared with test/docs/requestSigning.test.ts) and,
 * run as a script, the generator of its key material and derived values.
 *
 *   npx tsc -p tsconfig.json && node dist/test/docs/requestSigningExample.js
 *
 * prints the `<!-- example:... -->` blocks of the page that depend on the keys, for a NEW test CA and participant key
 * (RSA keys are random, so each run gives different keys, thumbprints and signatures). It was run once; the page
 * holds its output, and the test checks those bytes against the gateway. Run it again only to replace the example
 * keys, and paste each printed block over the page's block of the same name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signRequest } from '../../gateway/client/client.js';
import type { ParticipantCredentials } from '../../gateway/client/client.js';
import { sha256Base64url } from '../../gateway/crypto/jws.js';
import { certificateFacts, createCertificateAuthority, generateRsaKeyPair, issueParticipantCertificate } from '../../gateway/crypto/x509.js';
import { AUTHORIZATION_SCHEME } from '../../gateway/identity/protocol.js';
import { packageRoot } from '../../gateway/paths.js';

/** Everything about the example that is chosen rather than generated. */
/** The example participant's private key: a test fixture, deliberately public, kept out of the docs. */
export const EXAMPLE_KEY_FILE = path.join(packageRoot, 'test', 'fixtures', 'request-signing', 'participant.key.pem');

export const EXAMPLE = {
  participantId: 'source-example',
  role: 'source',
  name: 'Example data source (test key)',
  datasets: ['medical_insurance_arrears'],
  caCommonName: 'request-signing example CA',
  /** `now` for the CA and the participant certificate. */
  issuedAt: '2026-01-01T00:00:00Z',
  /** Leaf validity, so the example stays valid (the CA is valid 10 years). Real certificates are at most 825 days. */
  certificateDays: 3650,
  audience: 'urn:credit-gateway:example',
  method: 'POST',
  path: '/v1/ingest/medical_insurance_arrears?as_of=2026-11-01',
  contentType: 'application/x-ndjson',
  /** One NDJSON record and its line feed: the exact body bytes are its UTF-8 encoding. */
  body: '{"enterprise_name":"济南槐荫泉顺物流有限公司","uscc":"91370104MA3C4K7P5F","arrears_period":"2026-09","arrears_amount":"1234.50"}\n',
  iat: 1795000000,
  lifetimeSeconds: 60,
  jti: '0b8f3c52-6d1e-4a97-9e24-7c15a3f08d6b',
} as const;

export function exampleBody(): Buffer {
  return Buffer.from(EXAMPLE.body, 'utf8');
}

/** The example request signed with RS256 exactly as the page describes, by the project's own client. */
export function signExample(credentials: ParticipantCredentials): Promise<string> {
  return signRequest(credentials, {
    method: EXAMPLE.method,
    path: EXAMPLE.path,
    body: exampleBody(),
    audience: EXAMPLE.audience,
    algorithm: 'RS256',
    now: new Date(EXAMPLE.iat * 1000),
    lifetimeSeconds: EXAMPLE.lifetimeSeconds,
    jti: EXAMPLE.jti,
  });
}

function block(name: string, content: string, language = ''): string {
  return `<!-- example:${name} -->\n\`\`\`${language}\n${content.endsWith('\n') ? content : `${content}\n`}\`\`\`\n`;
}

async function main(): Promise<void> {
  const now = new Date(EXAMPLE.issuedAt);
  const ca = createCertificateAuthority({ commonName: EXAMPLE.caCommonName, now });
  const keys = generateRsaKeyPair();
  const certificatePem = issueParticipantCertificate(ca, {
    participantId: EXAMPLE.participantId, role: EXAMPLE.role, name: EXAMPLE.name, publicKeyPem: keys.publicKeyPem,
    days: EXAMPLE.certificateDays, now,
  });
  const credentials = { participantId: EXAMPLE.participantId, privateKeyPem: keys.privateKeyPem, certificatePem };
  const token = await signExample(credentials);
  const [headerB64 = '', payloadB64 = '', signature = ''] = token.split('.');
  const out = [
    block('certificate', certificatePem),
    block('ca-certificate', ca.certificatePem),
    block('x5t', certificateFacts(certificatePem).sha256Thumbprint),
    block('body', EXAMPLE.body, 'json'),
    block('body-base64', exampleBody().toString('base64')),
    block('body-sha256', sha256Base64url(exampleBody())),
    block('header-json', Buffer.from(headerB64, 'base64url').toString('utf8'), 'json'),
    block('header-b64', headerB64),
    block('payload-json', Buffer.from(payloadB64, 'base64url').toString('utf8'), 'json'),
    block('payload-b64', payloadB64),
    block('signing-input', `${headerB64}.${payloadB64}`),
    block('signature', signature),
    block('jws', token),
    block('http-request', [
      `${EXAMPLE.method} ${EXAMPLE.path} HTTP/1.1`,
      'Host: gateway.example',
      `Content-Type: ${EXAMPLE.contentType}`,
      `Content-Length: ${exampleBody().length}`,
      `Authorization: ${AUTHORIZATION_SCHEME} ${token}`,
      '',
      EXAMPLE.body,
    ].join('\n'), 'http'),
  ];
  // The private key goes to a fixture, not into the page: docs publish no private key.
  fs.writeFileSync(EXAMPLE_KEY_FILE, keys.privateKeyPem);
  process.stdout.write(out.join('\n'));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
