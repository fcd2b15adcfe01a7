// The operator's view of the running gateway, on a real gateway (127.0.0.1, port 0): GET /v1/batches lists each
// batch with its receipt in the log (the ingest.batch entry at audit_index names the same batch and content hash)
// and never a record value; GET /v1/status says it is ready, how big the log is and its latest checkpoint, which
// signing keys exist (a rotation shows the retired one beside the new current one), the data keys and the CA
// certificate's expiry, and never key material. Operators only.
import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { rotateSigningKey } from '../../gateway/keys/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { refusal } from '../support/problems.js';
import { ndjson } from '../support/runtime.js';

const USCC = '91350100M000100Y43';
const AMOUNT = '4321.09';

interface Status {
  ready: boolean; not_ready: string | null; engine: string;
  audit_log: { size: number; halted: string | null; latest_checkpoint: { tree_size: number; created_at: string } | null };
  signing_keys: { kid: string; created_at: string; retired_at: string | null; current: boolean }[];
  data_keys: { data_key_id: number; created_at: string; current: boolean }[];
  ca_certificate: { subject: string; not_after: string; sha256: string };
}

describe('GET /v1/status and GET /v1/batches, for the operator', function () {
  let gateway: TestGateway;
  let operator: EnrolledParticipant;
  let source: EnrolledParticipant;
  let batchId: string;

  before(async function () {
    gateway = await startTestGateway({ GATEWAY_CHECKPOINT_INTERVAL_MS: '100' });
    operator = await gateway.enrol('operator');
    source = await gateway.enrol('source');
    const stored = await gateway.client(source).ingest('medical_insurance_arrears', ndjson([
      { enterprise_name: '某某科技有限公司', uscc: USCC, arrears_period: '2025-09', arrears_amount: AMOUNT },
    ]), { format: 'ndjson', asOf: '2025-10-31' });
    batchId = String(stored.verified.claims['batch_id']);
  });

  after(async function () {
    await gateway?.stop();
  });

  it('lists the batch with its receipt in the log, and no record value', async function () {
    const response = await gateway.client(operator).send('GET', '/v1/batches?limit=10');
    expect(response.status).to.equal(200);
    const { batches } = response.json<{ batches: Record<string, unknown>[] }>();
    expect(batches).to.have.length(1);
    const [batch] = batches;
    expect(batch).to.include({ batch_id: batchId, dataset: 'medical_insurance_arrears', source: source.record.participantId, row_count: 1, as_of: '2025-10-31' });
    const [entry] = await gateway.runtime.audit.log.entries({ start: Number(batch!['audit_index']), end: Number(batch!['audit_index']) + 1, limit: 1 });
    const receipt = JSON.parse(Buffer.from(entry!.entry).toString('utf8')) as Record<string, unknown>;
    expect(receipt).to.include({ kind: 'ingest.batch', batch_id: batchId, content_sha256: batch!['content_sha256'] });
    expect(response.body.toString('utf8')).to.not.include(AMOUNT).and.not.include(USCC);
  });

  it('tells the status: ready, the log and its checkpoint, the keys by id and date, the CA certificate\'s expiry', async function () {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const response = await gateway.client(operator).send('GET', '/v1/status');
    expect(response.status).to.equal(200);
    const status = response.json<Status>();
    expect(status).to.include({ ready: true, not_ready: null, engine: gateway.runtime.store.engine.name });
    expect(status.audit_log.size).to.equal(await gateway.runtime.audit.log.size());
    expect(status.audit_log.halted).to.equal(null);
    expect(status.audit_log.latest_checkpoint?.tree_size).to.be.greaterThan(0);
    expect(status.signing_keys).to.deep.equal([{ kid: gateway.runtime.signingKeys.current().kid, created_at: status.signing_keys[0]!.created_at, retired_at: null, current: true }]);
    expect(status.data_keys.filter((key) => key.current).map((key) => key.data_key_id)).to.deep.equal([gateway.runtime.keyring.current().id]);
    const ca = new X509Certificate(gateway.runtime.caCertificatePem);
    expect(status.ca_certificate.not_after).to.equal(new Date(ca.validTo).toISOString());
    // Ids and dates only: no JWK member of a private key, no wrapped data key, no PEM.
    expect(response.body.toString('utf8')).to.not.match(/"d":|"x":|"y":|wrapped|-----BEGIN/);
  });

  it('shows a rotated signing key as retired beside the new current one', async function () {
    const before = gateway.runtime.signingKeys.current().kid;
    const rotation = await rotateSigningKey(gateway.config.keysDir);
    // The running gateway re-reads the key file at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const status = (await gateway.client(operator).send('GET', '/v1/status')).json<Status>();
    expect(status.signing_keys.map((key) => [key.kid, key.current, key.retired_at !== null])).to.deep.equal([[rotation.current, true, false], [before, false, true]]);
  });

  it('refuses every other role: 403 role_not_allowed', async function () {
    const bank = await gateway.enrol('bank');
    for (const target of ['/v1/status', '/v1/batches']) {
      expect((await refusal(gateway.client(bank).send('GET', target))).code).to.equal('role_not_allowed');
    }
  });
});
