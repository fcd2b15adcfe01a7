// Pins how a signed endpoint reads its body, on a real gateway (127.0.0.1, port 0): the signature is checked before
// a byte of the body is read (a stranger announcing a huge body is answered while the body is still unsent), each
// endpoint has a body limit sized to what it takes (refused from the announced length, or as soon as a chunked body
// passes it), the body is hashed as it streams, and a JSON body may not repeat a member name.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { signRequest } from '../../gateway/client/client.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { BODY_LIMITS } from '../../gateway/http/signedRequest.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { expectProblem, refusal } from '../support/problems.js';
import { announceBody, sendChunkedWithoutEnd } from '../support/rawHttp.js';
import type { RawResponse } from '../support/rawHttp.js';

const PROBLEM_TYPE_PREFIX = 'urn:credit-gateway:problem:';

function expectRawProblem(response: RawResponse, status: number, code: string): void {
  const text = response.body.toString('utf8');
  expect(response.status, text).to.equal(status);
  const problem = JSON.parse(text) as { code: string; type: string; request_id: string };
  expect(problem.code).to.equal(code);
  expect(problem.type).to.equal(`${PROBLEM_TYPE_PREFIX}${code}`);
  expect(problem.request_id).to.equal(response.headers['x-request-id']);
}

describe('signed request bodies', function () {
  let gateway: TestGateway;
  let bank: EnrolledParticipant;
  let source: EnrolledParticipant;

  before(async function () {
    gateway = await startTestGateway({ GATEWAY_MAX_BODY_BYTES: String(1024 * 1024) });
    bank = await gateway.enrol('bank');
    source = await gateway.enrol('source');
  });

  after(async function () {
    await gateway?.stop();
  });

  /** A correct signature by the bank for a body of the given bytes (which need not be sent). */
  const signFor = (path: string, body: Buffer, method = 'POST') =>
    signRequest(bank.credentials, { method, path, body, audience: gateway.config.gatewayId });

  describe('with a signature by a key that is not the participant\'s', function () {
    for (const [target, length] of [['/v1/verifications', 200 * 1024], ['/v1/ingest/medical_insurance_arrears', 60 * 1024 * 1024]] as const) {
      it(`answers 401 to POST ${target} announcing ${length} bytes before any is sent, and closes the connection`, async function () {
        const signer = target.startsWith('/v1/ingest') ? source : bank;
        const forged = await signRequest(
          { ...signer.credentials, privateKeyPem: generateRsaKeyPair().privateKeyPem },
          { method: 'POST', path: target, body: Buffer.alloc(length), audience: gateway.config.gatewayId },
        );
        const response = await announceBody(gateway.url, { target, length, authorization: `JWS ${forged}` });
        expectRawProblem(response, 401, 'signature_invalid');
        expect(response.headers['connection']).to.equal('close');
      });
    }

    it('answers 401 to a header that is no JWS at all, announcing 1 GiB, before any byte is sent', async function () {
      const response = await announceBody(gateway.url, { target: '/v1/verifications', length: 1024 ** 3, authorization: 'JWS x.y.z' });
      expectRawProblem(response, 401, 'signature_malformed');
    });
  });

  describe('signed correctly, with a body over the endpoint\'s limit', function () {
    it(`answers 413 body_too_large to a verification announcing ${BODY_LIMITS.verification + 1} bytes, before any is sent`, async function () {
      const body = Buffer.alloc(BODY_LIMITS.verification + 1, ' ');
      const response = await announceBody(gateway.url, {
        target: '/v1/verifications', length: body.length, authorization: `JWS ${await signFor('/v1/verifications', body)}`,
      });
      expectRawProblem(response, 413, 'body_too_large');
      expect(response.headers['connection']).to.equal('close');
    });

    it('answers 413 body_too_large as soon as a chunked verification body passes the limit', async function () {
      const total = BODY_LIMITS.verification + 1;
      const response = await sendChunkedWithoutEnd(gateway.url, {
        target: '/v1/verifications', total, authorization: `JWS ${await signFor('/v1/verifications', Buffer.alloc(total, ' '))}`,
      });
      expectRawProblem(response, 413, 'body_too_large');
    });

    it('answers 413 body_too_large to a consent grant over its limit', async function () {
      const enterprise = await gateway.enrol('enterprise', { uscc: '91350100M000100Y43' });
      const body = Buffer.alloc(BODY_LIMITS.consent + 1, ' ');
      const token = await signRequest(enterprise.credentials, { method: 'POST', path: '/v1/consents', body, audience: gateway.config.gatewayId });
      const response = await announceBody(gateway.url, { target: '/v1/consents', length: body.length, authorization: `JWS ${token}` });
      expectRawProblem(response, 413, 'body_too_large');
    });

    it('answers 413 body_too_large to a batch over GATEWAY_MAX_BODY_BYTES', async function () {
      const body = Buffer.alloc(1024 * 1024 + 1, ' ');
      const target = '/v1/ingest/medical_insurance_arrears';
      const token = await signRequest(source.credentials, { method: 'POST', path: target, body, audience: gateway.config.gatewayId });
      const response = await announceBody(gateway.url, { target, length: body.length, authorization: `JWS ${token}`, contentType: 'application/x-ndjson' });
      expectRawProblem(response, 413, 'body_too_large');
    });

    it('answers 413 body_too_large to a GET that carries a body (a GET takes none)', async function () {
      const error = await refusal(gateway.client(bank).send('GET', '/v1/consents', { body: '{}' }));
      expectProblem(error, 413, 'body_too_large');
    });
  });

  describe('signed correctly, with a body that streams in other bytes than were signed', function () {
    it('answers 401 body_hash_mismatch, and the jti stays unused', async function () {
      const jti = randomUUID();
      const signed = Buffer.from('{"loan_reference":"L-1","officer":"o","items":[]}');
      const token = await signRequest(bank.credentials, { method: 'POST', path: '/v1/verifications', body: signed, audience: gateway.config.gatewayId, jti });
      const sent = Buffer.from('{"loan_reference":"L-2","officer":"o","items":[]}');
      const error = await refusal(gateway.client(bank).send('POST', '/v1/verifications', {
        body: sent, unsigned: true, headers: { authorization: `JWS ${token}`, 'content-type': 'application/json' },
      }));
      expectProblem(error, 401, 'body_hash_mismatch');
      const now = Math.floor(Date.now() / 1000);
      expect(await gateway.runtime.store.rememberRequests([{ participantId: bank.record.participantId, jti, expiresAt: now + 300 }], now)).to.deep.equal([true]);
    });
  });

  describe('a JSON body that repeats a member name', function () {
    for (const [why, body] of [
      ['at the top (officer twice)', '{"loan_reference":"L-1","officer":"A","officer":"B","items":[{"subject":{"uscc":"91350100M000100Y43"},"consent_id":"consent-000000000001","questions":["medical_arrears_now"]}]}'],
      ['inside an item (uscc twice, one escaped)', '{"loan_reference":"L-1","officer":"A","items":[{"subject":{"uscc":"91350100M000100Y43","\\u0075scc":"91110108722619411A"},"consent_id":"consent-000000000001","questions":["medical_arrears_now"]}]}'],
    ] as const) {
      it(`answers 400 malformed_input ${why}, and records nothing`, async function () {
        const before = await gateway.runtime.audit.log.size();
        const error = await refusal(gateway.client(bank).send('POST', '/v1/verifications', { body, headers: { 'content-type': 'application/json' } }));
        expectProblem(error, 400, 'malformed_input');
        expect(String(error.problem['detail'])).to.match(/twice/);
        expect(await gateway.runtime.audit.log.size()).to.equal(before);
      });
    }
  });
});

