// docs/request-signing.md: its worked example is what the client produces and what the gateway accepts, byte for
// byte, and its refusal tables are the codes the authenticator throws. Everything is read from the page at run time.
import { expect } from 'chai';
import { constants, createHash, createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { signRequest } from '../../gateway/client/client.js';
import type { ParticipantCredentials } from '../../gateway/client/client.js';
import { sha256Hex } from '../../gateway/crypto/index.js';
import { sha256Base64url } from '../../gateway/crypto/jws.js';
import { certificateFacts, isIssuedBy } from '../../gateway/crypto/x509.js';
import { errorRegistry, GatewayError } from '../../gateway/errors/index.js';
import type { ErrorCode } from '../../gateway/errors/index.js';
import { identityRoutes } from '../../gateway/http/routes/identity.js';
import { parseVerifierKey } from '../../gateway/crypto/note.js';
import { PROBLEM_TYPE_PREFIX } from '../../gateway/http/problems.js';
import { createReplayGuard, createRequestAuthenticator } from '../../gateway/identity/index.js';
import type { ParticipantRegistry, RequestAuthenticator } from '../../gateway/identity/index.js';
import type { AuditRuntime } from '../../gateway/runtime/index.js';
import type { SigningKeySet } from '../../gateway/keys/index.js';
import { packageRoot } from '../../gateway/paths.js';
import { openSqliteStore } from '../../gateway/store/index.js';
import type { ParticipantRecord, Store } from '../../gateway/store/index.js';
import { EXAMPLE, EXAMPLE_KEY_FILE, exampleBody, signExample } from './requestSigningExample.js';

const page = fs.readFileSync(path.join(packageRoot, 'docs', 'request-signing.md'), 'utf8');
const EMPTY_BODY_SHA256 = '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU';
const SKEW = 60;
const EXAMPLE_PRIVATE_KEY = fs.readFileSync(EXAMPLE_KEY_FILE, 'utf8');

/** The content of the fenced block right after `<!-- example:name -->`, with its final line feed. */
function block(name: string): string {
  const marker = `<!-- example:${name} -->\n`;
  const at = page.indexOf(marker);
  if (at < 0 || page.indexOf(marker, at + 1) >= 0) throw new Error(`the page needs exactly one ${marker.trim()}`);
  const fenced = /^```[a-z]*\n([\s\S]*?)^```$/m.exec(page.slice(at + marker.length));
  if (!fenced || fenced.index !== 0 || fenced[1] === undefined) throw new Error(`${marker.trim()} must be followed by a fenced block`);
  return fenced[1];
}

/** A one-line block's value. */
function value(name: string): string {
  const content = block(name);
  if (!/^[^\n]+\n$/.test(content)) throw new Error(`example:${name} must be one line`);
  return content.trimEnd();
}

function base64urlJson(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

interface HttpRequest {
  method: string;
  target: string;
  headers: Map<string, string>;
  body: Buffer;
}

function httpRequest(): HttpRequest {
  const text = block('http-request');
  const split = text.indexOf('\n\n');
  const [requestLine = '', ...headerLines] = text.slice(0, split).split('\n');
  const [method = '', target = '', version] = requestLine.split(' ');
  expect(version).to.equal('HTTP/1.1');
  const headers = new Map(headerLines.map((line) => {
    const colon = line.indexOf(': ');
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 2)] as [string, string];
  }));
  return { method, target, headers, body: Buffer.from(text.slice(split + 2), 'utf8') };
}

function credentials(): ParticipantCredentials {
  return { participantId: EXAMPLE.participantId, privateKeyPem: EXAMPLE_PRIVATE_KEY, certificatePem: block('certificate') };
}

interface TableRow {
  number: string;
  status: number;
  code: string;
  type: string;
  cause: string;
}

function refusalTable(name: string): TableRow[] {
  const marker = `<!-- refusals:${name} -->\n`;
  const at = page.indexOf(marker);
  if (at < 0) throw new Error(`the page needs ${marker.trim()}`);
  const lines = page.slice(at + marker.length).split('\n');
  const table = lines.slice(0, lines.findIndex((line) => !line.startsWith('|')));
  expect(table[0]).to.equal('| # | status | code | type | cause |');
  return table.slice(2).map((line) => {
    const [number = '', status = '', code = '', type = '', cause = ''] = line.split('|').slice(1, -1).map((cell) => cell.trim());
    return { number, status: Number(status), code: code.replace(/^`|`$/g, ''), type: type.replace(/^`|`$/g, ''), cause };
  });
}

/** A gateway's authenticator as the example describes it, over a real store in a temporary directory. */
class ExampleGateway {
  readonly authenticator: RequestAuthenticator;
  readonly #store: Store;
  readonly #dir: string;

  /** The gateway with the example's participant registered. */
  static async open(nowSeconds: number): Promise<ExampleGateway> {
    const gateway = new ExampleGateway(nowSeconds);
    await gateway.#store.addParticipant(gateway.#participant());
    return gateway;
  }

  private constructor(nowSeconds: number) {
    this.#dir = fs.mkdtempSync(path.join(os.tmpdir(), 'request-signing-doc-'));
    this.#store = openSqliteStore({ file: path.join(this.#dir, 'gateway.sqlite') });
    const now = () => nowSeconds;
    this.authenticator = createRequestAuthenticator({
      store: this.#store,
      caCertificatePem: block('ca-certificate'),
      audience: EXAMPLE.audience,
      clockSkewSeconds: SKEW,
      replayGuard: createReplayGuard(this.#store, now),
      nowSeconds: now,
    });
  }

  #participant(): ParticipantRecord {
    const certificatePem = block('certificate');
    const facts = certificateFacts(certificatePem);
    return {
      participantId: EXAMPLE.participantId,
      role: EXAMPLE.role,
      name: EXAMPLE.name,
      uscc: undefined,
      datasets: EXAMPLE.datasets,
      status: 'active',
      certificatePem,
      certificateSha256: facts.sha256Thumbprint,
      notAfter: facts.notAfter.toISOString(),
      createdAt: EXAMPLE.issuedAt,
      statusChangedAt: EXAMPLE.issuedAt,
    };
  }

  /** Authenticates the example request (or a variant) for the ingest endpoint's roles; resolves to the refusal code or 'accepted'. */
  async send(changes: { authorization?: string; body?: Buffer } = {}): Promise<string> {
    const request = httpRequest();
    try {
      const principal = await this.authenticator.authenticate({
        authorization: changes.authorization ?? request.headers.get('authorization'),
        method: request.method,
        target: request.target,
        body: changes.body ?? request.body,
      }, ['source']);
      expect(principal.participantId).to.equal(EXAMPLE.participantId);
      return 'accepted';
    } catch (error) {
      if (error instanceof GatewayError) return error.code;
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#store.close();
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

async function withGateway<T>(nowSeconds: number, use: (gateway: ExampleGateway) => Promise<T>): Promise<T> {
  const gateway = await ExampleGateway.open(nowSeconds);
  try {
    return await use(gateway);
  } finally {
    await gateway.close();
  }
}

describe('docs/request-signing.md', function () {
  const iat = EXAMPLE.iat;
  const exp = EXAMPLE.iat + EXAMPLE.lifetimeSeconds;

  describe('the worked example', function () {
    it('has a certificate for the example participant, issued by the example CA, for the private key shown', function () {
      const certificate = new X509Certificate(block('certificate'));
      expect(isIssuedBy(block('ca-certificate'), block('certificate'))).to.equal(true);
      const facts = certificateFacts(block('certificate'));
      expect(facts.participantId).to.equal(EXAMPLE.participantId);
      expect(facts.role).to.equal(EXAMPLE.role);
      expect(facts.notBefore.getTime() / 1000).to.be.at.most(iat);
      expect(facts.notAfter.getTime() / 1000).to.be.at.least(exp);
      const fromPrivate = createPublicKey(createPrivateKey(EXAMPLE_PRIVATE_KEY)).export({ type: 'spki', format: 'der' });
      expect(certificate.publicKey.export({ type: 'spki', format: 'der' }).equals(fromPrivate)).to.equal(true);
      expect(certificate.publicKey.asymmetricKeyType).to.equal('rsa');
      expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).to.equal(2048);
    });

    it('gives x5t#S256 as base64url SHA-256 of the certificate DER', function () {
      const der = new X509Certificate(block('certificate')).raw;
      const thumbprint = createHash('sha256').update(der).digest('base64url');
      expect(value('x5t')).to.equal(thumbprint);
      expect(JSON.parse(block('header-json'))['x5t#S256']).to.equal(thumbprint);
    });

    it('shows the body bytes, their base64 and their body_sha256', function () {
      expect(block('body')).to.equal(EXAMPLE.body);
      expect(Buffer.from(value('body-base64'), 'base64').equals(exampleBody())).to.equal(true);
      expect(exampleBody().length).to.equal(141);
      expect(page).to.contain(`${exampleBody().length} bytes of UTF-8`);
      const hash = createHash('sha256').update(exampleBody()).digest('base64url');
      expect(value('body-sha256')).to.equal(hash);
      expect(JSON.parse(block('payload-json')).body_sha256).to.equal(hash);
    });

    it('gives the right body_sha256 for an empty body', function () {
      expect(value('empty-body-sha256')).to.equal(EMPTY_BODY_SHA256);
      expect(createHash('sha256').update(new Uint8Array(0)).digest('base64url')).to.equal(EMPTY_BODY_SHA256);
      expect(sha256Base64url(new Uint8Array(0))).to.equal(EMPTY_BODY_SHA256);
    });

    it('shows the header and payload JSON with the values of the example', function () {
      expect(JSON.parse(block('header-json'))).to.deep.equal({
        alg: 'RS256', typ: 'gateway-request+jwt', kid: EXAMPLE.participantId, 'x5t#S256': value('x5t'),
      });
      expect(JSON.parse(block('payload-json'))).to.deep.equal({
        iss: EXAMPLE.participantId, aud: EXAMPLE.audience, method: EXAMPLE.method, path: EXAMPLE.path,
        body_sha256: value('body-sha256'), iat, exp, jti: EXAMPLE.jti,
      });
      expect(page).to.contain(`| \`iat\` / \`exp\` | \`${iat}\` / \`${exp}\` |`);
      expect(page).to.contain(`| \`jti\` | \`${EXAMPLE.jti}\` |`);
      expect(page).to.contain(`\`iat = ${iat}\` (${new Date(iat * 1000).toISOString().replace('.000Z', 'Z')})`);
    });

    it('gives the base64url of the header and payload, the signing input and the compact JWS consistently', function () {
      expect(value('header-b64')).to.equal(base64urlJson(block('header-json').trimEnd()));
      expect(value('payload-b64')).to.equal(base64urlJson(block('payload-json').trimEnd()));
      expect(value('signing-input')).to.equal(`${value('header-b64')}.${value('payload-b64')}`);
      expect(value('jws')).to.equal(`${value('signing-input')}.${value('signature')}`);
    });

    it('gives the RS256 signature of the signing input with the test key (PKCS#1 v1.5, SHA-256)', function () {
      const signature = sign('sha256', Buffer.from(value('signing-input'), 'ascii'), createPrivateKey(EXAMPLE_PRIVATE_KEY));
      expect(value('signature')).to.equal(signature.toString('base64url'));
    });

    it('is reproduced byte for byte by the project\'s client (signRequest, RS256)', async function () {
      expect(await signExample(credentials())).to.equal(value('jws'));
    });

    it('shows the request on the wire as signed', function () {
      const request = httpRequest();
      expect(request.method).to.equal(EXAMPLE.method);
      expect(request.target).to.equal(EXAMPLE.path);
      expect(request.headers.get('content-type')).to.equal(EXAMPLE.contentType);
      expect(request.headers.get('content-length')).to.equal(String(exampleBody().length));
      expect(request.headers.get('authorization')).to.equal(`JWS ${value('jws')}`);
      expect(request.body.equals(exampleBody())).to.equal(true);
    });

    it('is accepted by the gateway once; a changed body or a replay is refused', async function () {
      await withGateway(iat + 1, async (gateway) => {
        const flipped = Buffer.from(exampleBody());
        flipped[0] = (flipped[0] as number) ^ 0x01;
        // Refused before the jti is remembered, so the genuine request still goes through afterwards.
        expect(await gateway.send({ body: flipped })).to.equal('body_hash_mismatch');
        expect(await gateway.send()).to.equal('accepted');
        expect(await gateway.send()).to.equal('request_replayed');
      });
    });

    it('makes the principal whose requestSha256 is the hex SHA-256 of the compact JWS (the receipt\'s request_sha256)', async function () {
      await withGateway(iat, async (gateway) => {
        const request = httpRequest();
        const principal = await gateway.authenticator.authenticate({
          authorization: request.headers.get('authorization'), method: request.method, target: request.target, body: request.body,
        }, ['source']);
        expect(principal.requestSha256).to.equal(sha256Hex(value('jws')));
        expect(principal.requestSha256).to.equal(createHash('sha256').update(value('jws'), 'ascii').digest('hex'));
      });
    });

    it(`is accepted exactly while the gateway's clock is within [iat - ${SKEW}, exp + ${SKEW}]`, async function () {
      expect(page).to.contain(`\`[${iat - SKEW}, ${exp + SKEW}]\``);
      for (const [now, outcome] of [
        [iat - SKEW - 1, 'timestamp_out_of_range'], [iat - SKEW, 'accepted'], [exp + SKEW, 'accepted'], [exp + SKEW + 1, 'timestamp_out_of_range'],
      ] as const) {
        expect(await withGateway(now, (gateway) => gateway.send()), `at ${now}`).to.equal(outcome);
      }
    });

    it('with PS256 (salt length 32) gives a different, randomised signature that the gateway accepts too', async function () {
      const sign256 = (jti: string) => signRequest(credentials(), {
        method: EXAMPLE.method, path: EXAMPLE.path, body: exampleBody(), audience: EXAMPLE.audience, algorithm: 'PS256',
        now: new Date(iat * 1000), lifetimeSeconds: EXAMPLE.lifetimeSeconds, jti,
      });
      const first = await sign256(EXAMPLE.jti);
      const second = await sign256(EXAMPLE.jti);
      expect(first.split('.')[1]).to.equal(value('payload-b64'));
      expect(first).to.not.equal(second);
      await withGateway(iat + 1, async (gateway) => {
        expect(await gateway.send({ authorization: `JWS ${first}` })).to.equal('accepted');
      });
      // A PSS signature with another salt length is refused, as the page warns.
      const header = base64urlJson(JSON.stringify({ ...JSON.parse(block('header-json')), alg: 'PS256' }));
      const input = `${header}.${value('payload-b64')}`;
      const wrongSalt = sign('sha256', Buffer.from(input), {
        key: createPrivateKey(EXAMPLE_PRIVATE_KEY), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN,
      }).toString('base64url');
      await withGateway(iat + 1, async (gateway) => {
        expect(await gateway.send({ authorization: `JWS ${input}.${wrongSalt}` })).to.equal('signature_invalid');
      });
    });

    it('shows the discovery document such a gateway publishes', async function () {
      const app = express();
      app.use(identityRoutes({
        gatewayId: EXAMPLE.audience,
        clockSkewSeconds: SKEW,
        caCertificatePem: block('ca-certificate'),
        participants: {} as ParticipantRegistry,
        signingKeys: {} as SigningKeySet,
        authenticator: {} as RequestAuthenticator,
        // Only the note key's public parts appear in the discovery document.
        audit: { noteKey: { origin: 'example.gateway/audit', verifierKey: 'example.gateway/audit+27e06d59+AaGG4BzPdKDrv5yNpLAWZr0f6jkCB1xXExvTU3aryhSC' } } as AuditRuntime,
      }));
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const response = await fetch(`http://127.0.0.1:${port}/.well-known/credit-gateway`);
        const discovery = JSON.parse(block('discovery')) as { audit_log: { note_verifier_key: string } };
        expect(discovery).to.deep.equal(await response.json());
        // The example key is a real C2SP note verifier key: its key id is the one its name and key hash to.
        expect(parseVerifierKey(discovery.audit_log.note_verifier_key).name).to.equal('example.gateway/audit');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe('the refusal tables', function () {
    const source = fs.readFileSync(path.join(packageRoot, 'gateway', 'identity', 'requestAuthentication.ts'), 'utf8');
    const thrown = new Set([...source.matchAll(/refuse\('([a-z_]+)'/g)].map((match) => match[1] as string));

    it('list exactly the codes the authenticator throws', function () {
      // Every refusal goes through refuse(): the one place the authenticator makes a GatewayError.
      expect(source.split('new GatewayError(').length - 1).to.equal(1);
      expect(thrown.size).to.be.at.least(19);
      const listed = new Set(refusalTable('authentication').map((row) => row.code));
      expect([...listed].sort()).to.deep.equal([...thrown].sort());
    });

    it('number the authentication checks 1, 2, 3, …', function () {
      const numbers = refusalTable('authentication').map((row) => row.number);
      expect(numbers).to.deep.equal(numbers.map((_number, index) => String(index + 1)));
    });

    it('give each code its HTTP status and problem type', function () {
      for (const row of [...refusalTable('authentication'), ...refusalTable('other')]) {
        expect(errorRegistry, row.code).to.have.property(row.code);
        expect(row.status, row.code).to.equal(errorRegistry[row.code as ErrorCode].status);
        expect(row.type, row.code).to.equal(`${PROBLEM_TYPE_PREFIX}${row.code}`);
        expect(row.cause, row.code).to.not.equal('');
      }
    });
  });
});
