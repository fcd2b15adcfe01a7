// Pins enrolment with one-time codes and the registry endpoints on a real gateway (127.0.0.1, port 0): an operator
// participant issues a code bound to a USCC; a key pair made with WebCrypto (non-extractable, as in the portal)
// redeems it with a proof of possession and gets a certificate for its public key, and can then sign requests; the
// code is single use, an expired or unknown code and a proof for another gateway or by another key are refused
// with their own codes, each step is audited, and only operators issue codes or change a participant's status.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { signEnrolmentProof, signRequestToken } from '../../gateway/crypto/participantTokens.js';
import { createEnrolmentCodes } from '../../gateway/identity/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { expectProblem, refusal } from '../support/problems.js';

const USCC = '91350100M000100Y43';
const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as const;

async function browserKey() {
  const pair = await crypto.subtle.generateKey(RSA, false, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return { pair, jwk: { kty: jwk.kty!, n: jwk.n!, e: jwk.e! } };
}

async function post(gateway: TestGateway, path: string, body: unknown) {
  const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

describe('enrolment with one-time codes', function () {
  let gateway: TestGateway;
  let operator: EnrolledParticipant;
  let bank: EnrolledParticipant;

  before(async function () {
    gateway = await startTestGateway();
    operator = await gateway.enrol('operator');
    bank = await gateway.enrol('bank');
  });
  after(async function () {
    await gateway?.stop();
  });

  async function issue(uscc = USCC, hours?: number) {
    const response = await gateway.client(operator).send('POST', '/v1/enrolment-codes', {
      body: JSON.stringify({ uscc, name: '某某科技有限公司', ...(hours === undefined ? {} : { hours }) }), headers: { 'content-type': 'application/json' },
    });
    return response.json<{ code: string; code_id: string; expires_at: string }>();
  }

  describe('POST /v1/enrolment-codes', function () {
    it('answers 201 with a code shown once; only its hash is stored, and the issue is audited', async function () {
      const issued = await issue();
      expect(issued.code).to.match(/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);
      const stored = await gateway.runtime.store.listEnrolmentCodes();
      const row = stored.find((code) => code.codeId === issued.code_id)!;
      expect(JSON.stringify(row)).to.not.include(issued.code);
      expect(row.issuedBy).to.equal(operator.record.participantId);
      const entries = await gateway.runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, kind: 'enrolment.code_issued', limit: 10 });
      expect(entries.map((entry) => entry.subject)).to.include(USCC);
    });

    it('answers 403 role_not_allowed to anyone but an operator', async function () {
      const error = await refusal(gateway.client(bank).send('POST', '/v1/enrolment-codes', { body: JSON.stringify({ uscc: USCC, name: 'x' }), headers: { 'content-type': 'application/json' } }));
      expectProblem(error, 403, 'role_not_allowed');
    });

    it('answers 400 invalid_argument for a USCC whose check character is wrong', async function () {
      const error = await refusal(issue('91350100M000100Y44'));
      expectProblem(error, 400, 'invalid_argument');
    });
  });

  describe('POST /v1/enrolments', function () {
    it('issues a certificate for the proven public key, which then signs requests, and the code is used up', async function () {
      const { code } = await issue();
      const { pair, jwk } = await browserKey();
      const proof = await signEnrolmentProof(pair.privateKey, jwk, { code, audience: gateway.config.gatewayId });
      const answer = await post(gateway, '/v1/enrolments', { proof });
      expect(answer.status).to.equal(201);
      expect(answer.body['uscc']).to.equal(USCC);
      const certificate = new X509Certificate(String(answer.body['certificate']));
      const spki = Buffer.from(await crypto.subtle.exportKey('spki', pair.publicKey));
      expect(certificate.publicKey.export({ type: 'spki', format: 'der' }).equals(spki)).to.equal(true);

      const participantId = String(answer.body['participant_id']);
      const path = `/v1/participants/${participantId}/certificate`;
      const token = await signRequestToken(pair.privateKey, { participantId, certificateSha256: String(answer.body['certificate_sha256']) }, {
        method: 'GET', path, body: new Uint8Array(0), audience: gateway.config.gatewayId,
      });
      const self = await fetch(`${gateway.url}${path}`, { headers: { authorization: `JWS ${token}` } });
      expect(self.status).to.equal(200);
      expect(((await self.json()) as { role: string }).role).to.equal('enterprise');

      const again = await post(gateway, '/v1/enrolments', { proof: await signEnrolmentProof(pair.privateKey, jwk, { code, audience: gateway.config.gatewayId }) });
      expect(again.status).to.equal(422);
      expect(again.body['code']).to.equal('enrolment_code_invalid');
    });

    it('re-enrolment revokes the enterprise participant the new one replaces', async function () {
      const before = (await gateway.runtime.store.enterpriseForUscc(USCC))!;
      const { code } = await issue();
      const { pair, jwk } = await browserKey();
      const answer = await post(gateway, '/v1/enrolments', { proof: await signEnrolmentProof(pair.privateKey, jwk, { code, audience: gateway.config.gatewayId }) });
      expect(answer.status).to.equal(201);
      expect((await gateway.runtime.store.getParticipant(before.participantId))!.status).to.equal('revoked');
    });

    it('answers 422 enrolment_code_invalid for an expired code', async function () {
      const { code } = await issue(USCC, 1);
      const { pair, jwk } = await browserKey();
      const later = new Date(Date.now() + 2 * 3_600_000);
      const future = createEnrolmentCodes({
        store: gateway.runtime.store, participants: gateway.runtime.participants, audit: gateway.runtime.audit.log,
        gatewayId: gateway.config.gatewayId, clockSkewSeconds: 60, now: () => later,
      });
      const proof = await signEnrolmentProof(pair.privateKey, jwk, { code, audience: gateway.config.gatewayId, now: later });
      try {
        await future.redeem(proof);
        expect.fail('an expired code was accepted');
      } catch (error) {
        expect((error as { code: string }).code).to.equal('enrolment_code_invalid');
      }
    });

    it('answers 400 enrolment_proof_invalid for a proof made for another gateway or signed by another key', async function () {
      const { code } = await issue();
      const { pair, jwk } = await browserKey();
      const elsewhere = await post(gateway, '/v1/enrolments', { proof: await signEnrolmentProof(pair.privateKey, jwk, { code, audience: 'urn:credit-gateway:elsewhere' }) });
      expect(elsewhere.body['code']).to.equal('enrolment_proof_invalid');
      const other = await browserKey();
      const mismatched = await post(gateway, '/v1/enrolments', { proof: await signEnrolmentProof(pair.privateKey, other.jwk, { code, audience: gateway.config.gatewayId }) });
      expect(mismatched.status).to.equal(400);
      expect(mismatched.body['code']).to.equal('enrolment_proof_invalid');
      // Neither used the code up.
      const stored = (await gateway.runtime.store.listEnrolmentCodes()).find((row) => row.usedAt === undefined);
      expect(stored).to.not.equal(undefined);
    });
  });

  describe('GET /v1/banks and POST /v1/participants/{id}/status', function () {
    it('lists the active banks to an enterprise', async function () {
      const enterprise = await gateway.enrol('enterprise', { uscc: '91110108722619411A' });
      const banks = (await gateway.client(enterprise).send('GET', '/v1/banks')).json<{ banks: { participant_id: string }[] }>().banks;
      expect(banks.map((item) => item.participant_id)).to.deep.equal([bank.record.participantId]);
    });

    it('lets an operator suspend and resume a participant, audited', async function () {
      const send = (change: string) => gateway.client(operator).send('POST', `/v1/participants/${bank.record.participantId}/status`, {
        body: JSON.stringify({ change }), headers: { 'content-type': 'application/json' },
      });
      expect((await send('suspend')).json<{ status: string }>().status).to.equal('suspended');
      expectProblem(await refusal(gateway.client(bank).send('GET', '/v1/consents')), 403, 'participant_suspended');
      expect((await send('resume')).json<{ status: string }>().status).to.equal('active');
      expectProblem(await refusal(send('resume')), 409, 'invalid_status_change');
    });
  });
});
