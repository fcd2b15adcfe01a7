// Pins request signing (`Authorization: JWS <compact JWS>`) on a real gateway (127.0.0.1, port 0), attacked through
// POST /v1/ingest/{dataset}: every way a signed request is refused answers its own problem (status, `code`, `type`,
// `request_id` equal to the X-Request-Id header, `WWW-Authenticate: JWS` on a 401) and records nothing as if it had
// succeeded; a correctly signed request (RS256 or PS256) is accepted once, and only once, even across a restart.
import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { CompactSign } from 'jose';
import type { CompactJWSHeaderParameters } from 'jose';
import { signRequest } from '../../gateway/client/client.js';
import type { ParticipantCredentials, RequestToSign } from '../../gateway/client/client.js';
import { certificateFacts, createCertificateAuthority, generateRsaKeyPair, issueParticipantCertificate } from '../../gateway/crypto/x509.js';
import type { CertificateAuthority } from '../../gateway/crypto/x509.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { startServer } from '../../gateway/http/server.js';
import { loadAuthority } from '../../gateway/identity/index.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { ParticipantRecord } from '../../gateway/store/index.js';
import { startTestGateway } from '../support/gateway.js';
import { announceBody } from '../support/rawHttp.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';

const DATASET = 'medical_insurance_arrears';
const TARGET = `/v1/ingest/${DATASET}`;
const PROBLEM_TYPE_PREFIX = 'urn:credit-gateway:problem:';
const REQUEST_TYPE = 'gateway-request+jwt';
const DAY_MS = 86_400_000;

interface RawRequest {
  readonly authorization?: string | undefined;
  readonly body: Buffer;
  readonly method?: string;
  /** Path and query exactly as sent on the request line. */
  readonly target?: string;
  readonly headers?: Readonly<Record<string, string | string[]>>;
}

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly request_id: string;
}

/** The parts of a request signature built by hand, to be tampered with before they are signed. */
interface TokenParts {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
}

/** One NDJSON row of medical_insurance_arrears; the period makes the content (and so the batch) distinct. */
function arrearsBody(period: string): Buffer {
  const row = { enterprise_name: '济南明德机械有限公司', uscc: '91350100M000100Y43', arrears_period: period, arrears_amount: '1200.50' };
  return Buffer.from(`${JSON.stringify(row)}\n`, 'utf8');
}

/** Sends bytes as they are (node:http, no re-encoding of the target), NDJSON unless told otherwise. */
function send(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string | string[]> = {
    'content-type': 'application/x-ndjson',
    'content-length': String(request.body.length),
    ...request.headers,
  };
  if (request.authorization !== undefined) headers['authorization'] = request.authorization;
  return new Promise((resolve, reject) => {
    const outgoing = http.request({
      hostname: url.hostname, port: url.port, method: request.method ?? 'POST', path: request.target ?? TARGET, headers,
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

/** A signature made by the client library, for the ingest target unless told otherwise. */
function sign(gateway: TestGateway, credentials: ParticipantCredentials, body: Buffer, overrides: Partial<RequestToSign> = {}): Promise<string> {
  return signRequest(credentials, { method: 'POST', path: TARGET, body, audience: gateway.config.gatewayId, ...overrides });
}

/** A correct header and claims, as signRequest would make them, for hand-made variations. */
function tokenParts(gateway: TestGateway, credentials: ParticipantCredentials, body: Buffer): TokenParts {
  const iat = Math.floor(Date.now() / 1000);
  return {
    header: {
      alg: 'RS256',
      typ: REQUEST_TYPE,
      kid: credentials.participantId,
      'x5t#S256': certificateFacts(credentials.certificatePem).sha256Thumbprint,
    },
    claims: {
      iss: credentials.participantId,
      aud: gateway.config.gatewayId,
      method: 'POST',
      path: TARGET,
      body_sha256: createHash('sha256').update(body).digest('base64url'),
      iat,
      exp: iat + 60,
      jti: randomUUID(),
    },
  };
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

async function signParts(parts: TokenParts, key: KeyObject | Uint8Array): Promise<string> {
  return new CompactSign(Buffer.from(JSON.stringify(parts.claims), 'utf8'))
    .setProtectedHeader(parts.header as CompactJWSHeaderParameters)
    .sign(key);
}

function authorization(token: string): string {
  return `JWS ${token}`;
}

/** Asserts the refusal: status, problem code and type, request id in body and header, the challenge on a 401. */
function expectProblem(response: RawResponse, status: number, code: string): Problem {
  const text = response.body.toString('utf8');
  expect(response.status, text).to.equal(status);
  expect(response.headers['content-type']).to.match(/^application\/problem\+json\b/);
  const problem = JSON.parse(text) as Problem;
  expect(problem.code).to.equal(code);
  expect(problem.type).to.equal(`${PROBLEM_TYPE_PREFIX}${code}`);
  expect(problem.status).to.equal(status);
  const requestId = response.headers['x-request-id'];
  expect(requestId).to.be.a('string').and.not.equal('');
  expect(problem.request_id).to.equal(requestId);
  if (status === 401) expect(response.headers['www-authenticate']).to.equal('JWS');
  return problem;
}

/** Nothing was recorded as if the request had succeeded: no record, no batch. */
async function expectNothingRecorded(gateway: TestGateway): Promise<void> {
  expect(await gateway.runtime.store.countRecords()).to.equal(0);
  expect(await gateway.runtime.store.listBatches(10)).to.deep.equal([]);
}

/** A participant record as the registry would store it, for certificates the registry would never have issued. */
function participantRecord(participantId: string, certificatePem: string): ParticipantRecord {
  const facts = certificateFacts(certificatePem);
  const now = new Date().toISOString();
  return {
    participantId,
    role: 'source',
    name: 'Test source',
    uscc: undefined,
    datasets: [DATASET],
    status: 'active',
    certificatePem,
    certificateSha256: facts.sha256Thumbprint,
    notAfter: facts.notAfter.toISOString(),
    createdAt: now,
    statusChangedAt: now,
  };
}

/** Inserts a source straight into the store with a certificate from `authority`; returns credentials that sign as it. */
async function insertSource(
  gateway: TestGateway,
  authority: CertificateAuthority,
  participantId: string,
  validity: { days: number; now?: Date } = { days: 30 },
): Promise<ParticipantCredentials> {
  const pair = generateRsaKeyPair();
  const certificatePem = issueParticipantCertificate(authority, {
    participantId, role: 'source', name: 'Test source', publicKeyPem: pair.publicKeyPem, ...validity,
  });
  await gateway.runtime.store.addParticipant(participantRecord(participantId, certificatePem));
  return { participantId, privateKeyPem: pair.privateKeyPem, certificatePem };
}

describe('POST /v1/ingest/{dataset}', function () {
  describe('refused requests (nothing is ever accepted on this gateway)', function () {
    let gateway: TestGateway;
    let source: EnrolledParticipant;
    let foreignAuthority: CertificateAuthority;
    const body = arrearsBody('2026-09');

    before(async function () {
      gateway = await startTestGateway();
      source = await gateway.enrol('source', { id: 'source-signer', name: 'Test source' });
      // A second root with its own key: what an attacker who runs a CA of their own can issue.
      foreignAuthority = createCertificateAuthority({ commonName: 'elsewhere root CA' });
    });

    after(async function () {
      await gateway?.stop();
    });

    const post = (request: RawRequest) => send(gateway.url, request);

    describe('without an Authorization header', function () {
      it('answers 401 signature_missing', async function () {
        expectProblem(await post({ body }), 401, 'signature_missing');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with an Authorization header that is not "JWS <compact JWS>"', function () {
      for (const header of ['Bearer x', 'JWS a b', 'JWS not-a-jws']) {
        it(`answers 401 signature_malformed to "${header}"`, async function () {
          expectProblem(await post({ authorization: header, body }), 401, 'signature_malformed');
          await expectNothingRecorded(gateway);
        });
      }
    });

    describe('with an empty signature part', function () {
      // Refused for its shape, before the header is read: an unsecured JWS (RFC 7515 §A.5) and a signed one whose
      // signature was stripped look the same, and neither is worth a key lookup.
      it('answers 401 signature_malformed to header.payload. with alg "none"', async function () {
        const parts = tokenParts(gateway, source.credentials, body);
        const token = `${base64urlJson({ ...parts.header, alg: 'none' })}.${base64urlJson(parts.claims)}.`;
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'signature_malformed');
        await expectNothingRecorded(gateway);
      });

      it('answers 401 signature_malformed to header.payload. with a bare {"alg":"none"} header', async function () {
        const parts = tokenParts(gateway, source.credentials, body);
        const token = `${base64urlJson({ alg: 'none' })}.${base64urlJson(parts.claims)}.`;
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'signature_malformed');
        await expectNothingRecorded(gateway);
      });

      it('answers 401 signature_malformed to an RS256 token whose signature was stripped', async function () {
        const signed = await sign(gateway, source.credentials, body);
        const stripped = `${signed.split('.').slice(0, 2).join('.')}.`;
        expectProblem(await post({ authorization: authorization(stripped), body }), 401, 'signature_malformed');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with alg "none" and a real RS256 signature carried over', function () {
      it('answers 401 algorithm_not_allowed', async function () {
        const parts = tokenParts(gateway, source.credentials, body);
        const signed = await sign(gateway, source.credentials, body);
        const token = `${base64urlJson({ ...parts.header, alg: 'none' })}.${base64urlJson(parts.claims)}.${signed.split('.')[2]}`;
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'algorithm_not_allowed');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with a "crit" header parameter', function () {
      it('answers 401 signature_malformed (no extension is understood)', async function () {
        const parts = tokenParts(gateway, source.credentials, body);
        // jose will not sign a crit it does not know either: RS256 by hand (RSASSA-PKCS1-v1_5 over SHA-256).
        const signingInput = `${base64urlJson({ ...parts.header, crit: ['urn:example:policy'], 'urn:example:policy': 'x' })}.${base64urlJson(parts.claims)}`;
        const signature = cryptoSign('sha256', Buffer.from(signingInput), createPrivateKey(source.credentials.privateKeyPem)).toString('base64url');
        const token = `${signingInput}.${signature}`;
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'signature_malformed');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with two Authorization headers', function () {
      // Node keeps the first and a proxy in front may keep the last: either order would let the two disagree.
      it('answers 401 signature_malformed to [valid, garbage]', async function () {
        const token = await sign(gateway, source.credentials, body);
        const response = await post({ body, headers: { authorization: [authorization(token), 'JWS garbage'] } });
        expectProblem(response, 401, 'signature_malformed');
        await expectNothingRecorded(gateway);
      });

      it('answers 401 signature_malformed to [garbage, valid]', async function () {
        const token = await sign(gateway, source.credentials, body);
        const response = await post({ body, headers: { authorization: ['JWS garbage', authorization(token)] } });
        expectProblem(response, 401, 'signature_malformed');
        await expectNothingRecorded(gateway);
      });

      it('answers 401 signature_malformed to the same valid header twice', async function () {
        const token = await sign(gateway, source.credentials, body);
        const response = await post({ body, headers: { authorization: [authorization(token), authorization(token)] } });
        expectProblem(response, 401, 'signature_malformed');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with a bogus signature and a 60 MiB body announced but not sent', function () {
      // The answer comes while the body is still unsent: the gateway checked the signature without waiting for it.
      // Were it reading the body first, this request would hang until the test timed out.
      it('answers 401 before reading the body, and closes the connection', async function () {
        const parts = tokenParts(gateway, source.credentials, body);
        const token = await signParts(parts, createPrivateKey(generateRsaKeyPair().privateKeyPem));
        const response = await announceBody(gateway.url, { target: TARGET, length: 60 * 1024 * 1024, authorization: authorization(token) });
        expectProblem(response, 401, 'signature_invalid');
        expect(response.headers['connection']).to.equal('close');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed HS256 with the certificate\'s public key PEM as the HMAC secret (key confusion)', function () {
      it('answers 401 algorithm_not_allowed', async function () {
        const parts = tokenParts(gateway, source.credentials, body);
        const secret = Buffer.from(certificateFacts(source.credentials.certificatePem).publicKeyPem, 'utf8');
        const token = await signParts({ ...parts, header: { ...parts.header, alg: 'HS256' } }, secret);
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'algorithm_not_allowed');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed ES256 with an EC key of the signer\'s own', function () {
      it('answers 401 algorithm_not_allowed', async function () {
        const parts = tokenParts(gateway, source.credentials, body);
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const token = await signParts({ ...parts, header: { ...parts.header, alg: 'ES256' } }, privateKey);
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'algorithm_not_allowed');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed RS512 with the participant\'s own key', function () {
      it('answers 401 algorithm_not_allowed', async function () {
        const parts = tokenParts(gateway, source.credentials, body);
        const token = await signParts({ ...parts, header: { ...parts.header, alg: 'RS512' } }, createPrivateKey(source.credentials.privateKeyPem));
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'algorithm_not_allowed');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with a header that is not a request signature\'s', function () {
      const malformed: ReadonlyArray<readonly [string, (header: Record<string, unknown>) => Record<string, unknown>]> = [
        ['a wrong typ (JWT)', (header) => ({ ...header, typ: 'JWT' })],
        ['no typ', ({ typ: _typ, ...header }) => header],
        ['no kid', ({ kid: _kid, ...header }) => header],
        ['no x5t#S256', ({ 'x5t#S256': _x5t, ...header }) => header],
      ];
      for (const [why, change] of malformed) {
        it(`answers 401 signature_malformed to ${why}`, async function () {
          const parts = tokenParts(gateway, source.credentials, body);
            const token = await signParts({ ...parts, header: change(parts.header) }, createPrivateKey(source.credentials.privateKeyPem));
          expectProblem(await post({ authorization: authorization(token), body }), 401, 'signature_malformed');
          await expectNothingRecorded(gateway);
        });
      }
    });

    describe('with claims whose iss is another participant than the kid', function () {
      it('answers 401 signature_malformed', async function () {
        const other = await gateway.enrol('source');
        const parts = tokenParts(gateway, source.credentials, body);
        const token = await signParts({ ...parts, claims: { ...parts.claims, iss: other.record.participantId } }, createPrivateKey(source.credentials.privateKeyPem));
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'signature_malformed');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with a kid no participant has', function () {
      it('answers 401 participant_unknown', async function () {
        const token = await sign(gateway, { ...source.credentials, participantId: 'source-nobody' }, body);
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'participant_unknown');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed with another RSA key under the right kid and x5t#S256', function () {
      it('answers 401 signature_invalid', async function () {
        const impostor = { ...source.credentials, privateKeyPem: generateRsaKeyPair().privateKeyPem };
        const token = await sign(gateway, impostor, body);
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'signature_invalid');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with the x5t#S256 of a certificate from another CA for the same participant id and name', function () {
      it('answers 401 certificate_unknown', async function () {
        const pair = generateRsaKeyPair();
        const certificatePem = issueParticipantCertificate(foreignAuthority, {
          participantId: source.record.participantId, role: 'source', name: source.record.name, publicKeyPem: pair.publicKeyPem, days: 30,
        });
        const token = await sign(gateway, { participantId: source.record.participantId, privateKeyPem: pair.privateKeyPem, certificatePem }, body);
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'certificate_unknown');
        await expectNothingRecorded(gateway);
      });
    });

    describe('from a participant whose registered certificate the platform CA did not issue', function () {
      it('answers 401 certificate_untrusted', async function () {
        const credentials = await insertSource(gateway, foreignAuthority, 'source-foreign');
        const token = await sign(gateway, credentials, body);
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'certificate_untrusted');
        await expectNothingRecorded(gateway);
      });
    });

    describe('from a participant whose certificate has expired', function () {
      it('answers 401 certificate_expired', async function () {
        const credentials = await insertSource(gateway, loadAuthority(gateway.config.keysDir), 'source-expired', {
          now: new Date(Date.now() - 400 * DAY_MS), days: 30,
        });
        const token = await sign(gateway, credentials, body);
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'certificate_expired');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed for another audience', function () {
      it('answers 401 audience_mismatch', async function () {
        const token = await sign(gateway, source.credentials, body, { audience: 'urn:credit-gateway:elsewhere' });
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'audience_mismatch');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed as PUT and sent as POST', function () {
      it('answers 401 method_mismatch', async function () {
        const token = await sign(gateway, source.credentials, body, { method: 'PUT' });
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'method_mismatch');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed for another dataset\'s path', function () {
      it('answers 401 path_mismatch', async function () {
        const token = await sign(gateway, source.credentials, body, { path: '/v1/ingest/water_accounts' });
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'path_mismatch');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with the query string changed after signing', function () {
      it('answers 401 path_mismatch to an added ?as_of=', async function () {
        const token = await sign(gateway, source.credentials, body);
        expectProblem(await post({ authorization: authorization(token), body, target: `${TARGET}?as_of=2026-01-01` }), 401, 'path_mismatch');
        await expectNothingRecorded(gateway);
      });

      it('answers 401 path_mismatch to a changed ?as_of=', async function () {
        const token = await sign(gateway, source.credentials, body, { path: `${TARGET}?as_of=2026-01-01` });
        expectProblem(await post({ authorization: authorization(token), body, target: `${TARGET}?as_of=2025-01-01` }), 401, 'path_mismatch');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with one byte of the body changed after signing', function () {
      it('answers 401 body_hash_mismatch', async function () {
        const token = await sign(gateway, source.credentials, body);
        const tampered = Buffer.from(body);
        const at = tampered.indexOf('1200.50') + 6;
        tampered[at] = '1'.charCodeAt(0);
        expect(tampered.equals(body)).to.equal(false);
        expectProblem(await post({ authorization: authorization(token), body: tampered }), 401, 'body_hash_mismatch');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed with iat 10 minutes in the future', function () {
      it('answers 401 timestamp_out_of_range', async function () {
        const token = await sign(gateway, source.credentials, body, { now: new Date(Date.now() + 600_000) });
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'timestamp_out_of_range');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed with exp in the past', function () {
      it('answers 401 timestamp_out_of_range', async function () {
        const token = await sign(gateway, source.credentials, body, { now: new Date(Date.now() - 400_000), lifetimeSeconds: 200 });
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'timestamp_out_of_range');
        await expectNothingRecorded(gateway);
      });
    });

    describe('signed with exp − iat = 301 s', function () {
      it('answers 401 lifetime_too_long', async function () {
        const token = await sign(gateway, source.credentials, body, { lifetimeSeconds: 301 });
        expectProblem(await post({ authorization: authorization(token), body }), 401, 'lifetime_too_long');
        await expectNothingRecorded(gateway);
      });
    });

    describe('from a participant whose role may not ingest', function () {
      for (const role of ['bank', 'enterprise'] as const) {
        it(`answers 403 role_not_allowed to ${role === 'enterprise' ? 'an' : 'a'} ${role}, and leaves its jti unused`, async function () {
          const participant = await gateway.enrol(role, role === 'enterprise' ? { uscc: '91350100M000100Y43' } : {});
          const jti = randomUUID();
          const token = await sign(gateway, participant.credentials, body, { jti });
          expectProblem(await post({ authorization: authorization(token), body }), 403, 'role_not_allowed');
          await expectNothingRecorded(gateway);
          // The jti was not remembered: the replay cache still takes it as new.
          const now = Math.floor(Date.now() / 1000);
          expect(await gateway.runtime.store.rememberRequests([{ participantId: participant.record.participantId, jti, expiresAt: now + 300 }], now))
            .to.deep.equal([true]);
        });
      }
    });

    describe('from a source not bound to the dataset', function () {
      it('answers 403 dataset_not_permitted', async function () {
        const other = await gateway.enrol('source', { datasets: ['water_accounts'] });
        const token = await sign(gateway, other.credentials, body);
        expectProblem(await post({ authorization: authorization(token), body }), 403, 'dataset_not_permitted');
        await expectNothingRecorded(gateway);
      });
    });

    describe('with a Content-Encoding: gzip body', function () {
      it('answers 415 unsupported_format', async function () {
        const compressed = gzipSync(body);
        const token = await sign(gateway, source.credentials, compressed);
        const response = await post({ authorization: authorization(token), body: compressed, headers: { 'content-encoding': 'gzip' } });
        expectProblem(response, 415, 'unsupported_format');
        await expectNothingRecorded(gateway);
      });
    });
  });

  describe('when the participant\'s status changes', function () {
    let gateway: TestGateway;
    let source: EnrolledParticipant;

    before(async function () {
      gateway = await startTestGateway();
      source = await gateway.enrol('source');
    });

    after(async function () {
      await gateway?.stop();
    });

    const attempt = async (period: string) => {
      const body = arrearsBody(period);
      return send(gateway.url, { authorization: authorization(await sign(gateway, source.credentials, body)), body });
    };

    describe('while suspended', function () {
      before(async function () {
        await gateway.runtime.participants.changeStatus(source.record.participantId, 'suspend');
      });

      it('answers 403 participant_suspended', async function () {
        expectProblem(await attempt('2026-01'), 403, 'participant_suspended');
        await expectNothingRecorded(gateway);
      });
    });

    describe('once resumed', function () {
      before(async function () {
        await gateway.runtime.participants.changeStatus(source.record.participantId, 'resume');
      });

      it('accepts the very next request (201)', async function () {
        const response = await attempt('2026-02');
        expect(response.status, response.body.toString('utf8')).to.equal(201);
        expect(await gateway.runtime.store.listBatches(10)).to.have.lengthOf(1);
      });
    });

    describe('once revoked', function () {
      before(async function () {
        await gateway.runtime.participants.changeStatus(source.record.participantId, 'revoke');
      });

      it('answers 401 participant_revoked', async function () {
        expectProblem(await attempt('2026-03'), 401, 'participant_revoked');
        expect(await gateway.runtime.store.listBatches(10)).to.have.lengthOf(1);
      });

      it('stays revoked: resume throws invalid_status_change', async function () {
        let refusal: unknown;
        try {
          await gateway.runtime.participants.changeStatus(source.record.participantId, 'resume');
        } catch (error) {
          refusal = error;
        }
        expect(refusal).to.be.instanceOf(GatewayError);
        expect((refusal as GatewayError).code).to.equal('invalid_status_change');
        expect((await gateway.runtime.participants.get(source.record.participantId))?.status).to.equal('revoked');
        expectProblem(await attempt('2026-04'), 401, 'participant_revoked');
      });
    });
  });

  describe('signed correctly', function () {
    let gateway: TestGateway;
    let source: EnrolledParticipant;

    before(async function () {
      gateway = await startTestGateway();
      source = await gateway.enrol('source');
    });

    after(async function () {
      await gateway?.stop();
    });

    for (const [algorithm, period] of [['RS256', '2025-01'], ['PS256', '2025-02']] as const) {
      it(`accepts ${algorithm} (201)`, async function () {
        const body = arrearsBody(period);
        const token = await sign(gateway, source.credentials, body, { algorithm });
        const response = await send(gateway.url, { authorization: authorization(token), body });
        expect(response.status, response.body.toString('utf8')).to.equal(201);
      });
    }

    describe('with a replayed jti', function () {
      it('answers 201 to the first request and 401 request_replayed to the identical second one', async function () {
        const body = arrearsBody('2025-03');
        const request = { authorization: authorization(await sign(gateway, source.credentials, body)), body };
        const batchesBefore = (await gateway.runtime.store.listBatches(100)).length;
        const recordsBefore = await gateway.runtime.store.countRecords();
        expect((await send(gateway.url, request)).status).to.equal(201);
        expectProblem(await send(gateway.url, request), 401, 'request_replayed');
        expect(await gateway.runtime.store.listBatches(100)).to.have.lengthOf(batchesBefore + 1);
        expect(await gateway.runtime.store.countRecords()).to.equal(recordsBefore + 1);
      });

      it('accepts exactly one of two identical requests sent at the same time', async function () {
        const body = arrearsBody('2025-06');
        const request = { authorization: authorization(await sign(gateway, source.credentials, body)), body };
        const batchesBefore = (await gateway.runtime.store.listBatches(100)).length;
        const responses = await Promise.all([send(gateway.url, request), send(gateway.url, request)]);
        expect(responses.map((response) => response.status).sort()).to.deep.equal([201, 401]);
        expectProblem(responses.find((response) => response.status === 401) as RawResponse, 401, 'request_replayed');
        expect(await gateway.runtime.store.listBatches(100)).to.have.lengthOf(batchesBefore + 1);
      });

      it('answers 401 request_replayed to a new signature over another body that reuses the jti', async function () {
        const jti = randomUUID();
        const first = arrearsBody('2025-04');
        expect((await send(gateway.url, { authorization: authorization(await sign(gateway, source.credentials, first, { jti })), body: first })).status)
          .to.equal(201);
        const batches = (await gateway.runtime.store.listBatches(100)).length;
        const second = arrearsBody('2025-05');
        const response = await send(gateway.url, { authorization: authorization(await sign(gateway, source.credentials, second, { jti })), body: second });
        expectProblem(response, 401, 'request_replayed');
        expect(await gateway.runtime.store.listBatches(100)).to.have.lengthOf(batches);
      });
    });
  });

  describe('with a jti replayed after a restart', function () {
    it('answers 401 request_replayed from the restarted gateway (the replay cache is durable)', async function () {
      const gateway = await startTestGateway();
      try {
        const source = await gateway.enrol('source');
        const body = arrearsBody('2026-09');
        const request = { authorization: authorization(await sign(gateway, source.credentials, body)), body };
        expect((await send(gateway.url, request)).status).to.equal(201);
        await gateway.running.stop();

        const runtime = (await openRuntime(gateway.config));
        const restarted = await startServer(runtime, createLogger('silent'), createMetrics());
        try {
          expectProblem(await send(restarted.url, request), 401, 'request_replayed');
          expect(await runtime.store.listBatches(10)).to.have.lengthOf(1);
          expect(await runtime.store.countRecords()).to.equal(1);
        } finally {
          await restarted.stop();
        }
      } finally {
        await gateway.stop();
      }
    });
  });
});
