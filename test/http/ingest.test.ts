// Pins POST /v1/ingest/{dataset} end to end through the typed client on a real gateway (127.0.0.1, port 0): CSV,
// NDJSON and JSON stored with a receipt that anyone can verify against the published JWKS and that quotes no record
// value; Idempotency-Key and content idempotence; the refusals of a bad batch (invalid rows, unknown dataset,
// unsupported Content-Type, body too large) with nothing stored; and the public identity documents a verifier needs
// (GET /v1/ca, /v1/participants/{id}/certificate, /.well-known/jwks.json, /.well-known/credit-gateway).
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import type { JSONWebKeySet, JWK } from 'jose';
import type { GatewayClient, GatewayResponse } from '../../gateway/client/client.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { expectProblem, refusal } from '../support/problems.js';

const DATASET = 'medical_insurance_arrears';
const INGEST_PATH = `/v1/ingest/${DATASET}`;
const RECEIPT_TYPE = 'gateway-ingest-receipt+jwt';
const CONTENT_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson', json: 'application/json' } as const;

/** The record values of every batch below; none of them may come back in an answer. */
const ENTERPRISE_NAME = '济南明德机械有限公司';
const USCC = '91350100M000100Y43';
const AMOUNT = '73519.26';
const AMOUNT_IN_FEN = '7351926';

type Format = keyof typeof CONTENT_TYPES;

interface ArrearsRow {
  readonly enterprise_name: string;
  readonly uscc: string;
  readonly arrears_period: string;
  readonly arrears_amount: string;
}

interface Problem {
  readonly type: string;
  readonly status: number;
  readonly code: string;
  readonly request_id: string;
  readonly errors?: ReadonlyArray<{ row: number; field?: string; reason: string }>;
}

interface VerifiedReceipt {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
  readonly keySet: JSONWebKeySet;
}

function arrears(period: string): ArrearsRow {
  return { enterprise_name: ENTERPRISE_NAME, uscc: USCC, arrears_period: period, arrears_amount: AMOUNT };
}

/** The rows as a request body in the given format. */
function bodyOf(format: Format, rows: readonly ArrearsRow[]): Buffer {
  if (format === 'ndjson') return Buffer.from(rows.map((row) => `${JSON.stringify(row)}\n`).join(''), 'utf8');
  if (format === 'json') return Buffer.from(JSON.stringify(rows), 'utf8');
  const lines = rows.map((row) => [row.enterprise_name, row.uscc, row.arrears_period, row.arrears_amount].join(','));
  return Buffer.from(`enterprise_name,uscc,arrears_period,arrears_amount\n${lines.join('\n')}\n`, 'utf8');
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function ingestRequest(client: GatewayClient, format: Format, body: Buffer, extraHeaders: Record<string, string> = {}): Promise<GatewayResponse> {
  return client.send('POST', INGEST_PATH, { body, headers: { 'content-type': CONTENT_TYPES[format], ...extraHeaders } });
}


/** Verifies a receipt with nothing of the gateway's code: the JWKS fetched over HTTP, jose's own verifier. */
async function verifyIndependently(baseUrl: string, receipt: string): Promise<VerifiedReceipt> {
  const response = await fetch(`${baseUrl}/.well-known/jwks.json`);
  expect(response.status).to.equal(200);
  const keySet = (await response.json()) as JSONWebKeySet;
  const { payload, protectedHeader } = await compactVerify(receipt, createLocalJWKSet(keySet), { algorithms: ['ES256'] });
  return { header: protectedHeader, claims: JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>, keySet };
}

/** The receipt's header and payload as text, for looking for record values in them. */
function receiptText(receipt: string): string {
  const [, payload] = receipt.split('.');
  return `${JSON.stringify(decodeProtectedHeader(receipt))}\n${Buffer.from(payload ?? '', 'base64url').toString('utf8')}`;
}

function expectNoRecordValue(text: string): void {
  for (const value of [ENTERPRISE_NAME, USCC, AMOUNT, AMOUNT_IN_FEN]) expect(text).to.not.include(value);
}

interface StoreSnapshot {
  readonly records: number;
  readonly batches: number;
}

async function snapshot(gateway: TestGateway): Promise<StoreSnapshot> {
  return { records: await gateway.runtime.store.countRecords(), batches: (await gateway.runtime.store.listBatches(1000)).length };
}

describe('POST /v1/ingest/{dataset}', function () {
  let gateway: TestGateway;
  let source: EnrolledParticipant;
  let client: GatewayClient;

  before(async function () {
    gateway = await startTestGateway();
    source = await gateway.enrol('source');
    client = gateway.client(source);
  });

  after(async function () {
    await gateway?.stop();
  });

  describe('with a well-formed batch', function () {
    const cases: ReadonlyArray<readonly [Format, readonly string[]]> = [
      ['ndjson', ['2026-01', '2026-02']],
      ['csv', ['2026-03', '2026-04', '2026-05']],
      ['json', ['2026-06']],
    ];
    for (const [format, periods] of cases) {
      it(`stores a ${format} body (201) with a receipt verifiable against /.well-known/jwks.json`, async function () {
        const body = bodyOf(format, periods.map(arrears));
        const before = (await snapshot(gateway));
        const response = await ingestRequest(client, format, body);
        expect(response.status).to.equal(201);
        expect(response.headers['idempotent-replayed']).to.equal(undefined);
        const { receipt, batch } = response.json<{ receipt: string; batch: Record<string, unknown> }>();

        // The typed client's own check (signature, typ, alg, iss and aud).
        const typed = await client.verify(receipt, RECEIPT_TYPE);
        expect(typed.claims['row_count']).to.equal(periods.length);

        const { header, claims, keySet } = await verifyIndependently(gateway.url, receipt);
        expect(header['typ']).to.equal(RECEIPT_TYPE);
        expect(header['alg']).to.equal('ES256');
        const key = keySet.keys.find((candidate) => candidate.kid === header['kid']);
        expect(key, 'the receipt kid is in the JWKS').to.not.equal(undefined);
        expect(header['kid']).to.equal(await calculateJwkThumbprint(key as JWK, 'sha256'));

        const stored = await gateway.runtime.store.findBatchById(String(claims['batch_id']));
        expect(stored).to.not.equal(undefined);
        expect(claims).to.include({
          iss: gateway.config.gatewayId,
          aud: source.record.participantId,
          outcome: 'stored',
          dataset: DATASET,
          source: source.record.participantId,
          format,
          row_count: periods.length,
          content_sha256: sha256Hex(body),
          as_of: stored?.asOf,
        });
        expect(claims['as_of']).to.match(/^\d{4}-\d{2}-\d{2}$/);
        expect(batch).to.deep.equal(Object.fromEntries(Object.keys(batch).map((name) => [name, claims[name]])));
        expect(await snapshot(gateway)).to.deep.equal({ records: before.records + periods.length, batches: before.batches + 1 });

        expectNoRecordValue(response.body.toString('utf8'));
        expectNoRecordValue(receiptText(receipt));
      });
    }
  });

  describe('with as_of and batch_id query parameters', function () {
    it('stores the batch under them and puts them in the receipt', async function () {
      const body = bodyOf('ndjson', [arrears('2025-10')]);
      const result = await client.ingest(DATASET, body, { format: 'ndjson', asOf: '2025-10-31', batchId: 'arrears-2025-10.test' });
      expect(result.status).to.equal(201);
      expect(result.replayed).to.equal(false);
      expect(result.verified.claims).to.include({ as_of: '2025-10-31', batch_id: 'arrears-2025-10.test' });
      const stored = await gateway.runtime.store.findBatchById('arrears-2025-10.test');
      expect(stored?.asOf).to.equal('2025-10-31');
      expect(stored?.contentHash).to.equal(sha256Hex(body));
    });
  });

  describe('with invalid rows', function () {
    it('answers 422 invalid_rows with row, field and reason, quoting no value, and stores nothing', async function () {
      const badUscc = '91350100M000100Y44';
      const rows = [
        arrears('2024-01'),
        { ...arrears('2024-02'), uscc: badUscc },
        { ...arrears('2024-03'), arrears_amount: '-12.345' },
        { ...arrears('2024-04'), arrears_period: '2024-13' },
      ];
      const before = await snapshot(gateway);
      const error = await refusal(ingestRequest(client, 'ndjson', bodyOf('ndjson', rows)));
      const problem = expectProblem(error, 422, 'invalid_rows');
      expect(problem.errors).to.be.an('array').that.is.not.empty;
      for (const rowError of problem.errors ?? []) {
        expect(rowError.row).to.be.a('number');
        expect(rowError.field).to.be.a('string');
        expect(rowError.reason).to.be.a('string').and.not.equal('');
      }
      const fields = (problem.errors ?? []).map((rowError) => [rowError.row, rowError.field]);
      expect(fields).to.deep.include.members([[2, 'uscc'], [3, 'arrears_amount'], [4, 'arrears_period']]);
      const text = JSON.stringify(problem);
      expectNoRecordValue(text);
      for (const value of [badUscc, '-12.345', '2024-13']) expect(text).to.not.include(value);
      expect(await snapshot(gateway)).to.deep.equal(before);
    });
  });

  describe('with an NDJSON row that repeats a field', function () {
    // JSON.parse would keep the last value silently; which one the source meant is unknown, so the row is refused.
    for (const [why, line] of [
      ['arrears_amount twice', `{"enterprise_name":"${ENTERPRISE_NAME}","uscc":"${USCC}","arrears_period":"2024-07","arrears_amount":"0","arrears_amount":"${AMOUNT}"}`],
      ['uscc twice, once escaped', `{"enterprise_name":"${ENTERPRISE_NAME}","uscc":"${USCC}","arrears_period":"2024-07","arrears_amount":"${AMOUNT}","\\u0075scc":"91110108722619411A"}`],
    ] as const) {
      it(`answers 422 invalid_rows naming the row (${why}), and stores nothing`, async function () {
        const before = await snapshot(gateway);
        const body = Buffer.from(`${JSON.stringify(arrears('2024-08'))}\n${line}\n`, 'utf8');
        const error = await refusal(ingestRequest(client, 'ndjson', body));
        const problem = expectProblem(error, 422, 'invalid_rows');
        expect(problem.errors).to.have.length(1);
        expect(problem.errors?.[0]).to.include({ row: 2 });
        expect(problem.errors?.[0]?.reason).to.match(/twice/);
        expectNoRecordValue(JSON.stringify(problem));
        expect(await snapshot(gateway)).to.deep.equal(before);
      });
    }

    it('answers 422 invalid_rows for the same row in a JSON array body', async function () {
      const before = await snapshot(gateway);
      const body = Buffer.from(`[{"enterprise_name":"${ENTERPRISE_NAME}","uscc":"${USCC}","arrears_period":"2024-09","arrears_period":"2024-10","arrears_amount":"${AMOUNT}"}]`, 'utf8');
      const problem = expectProblem(await refusal(ingestRequest(client, 'json', body)), 422, 'invalid_rows');
      expect(problem.errors?.[0]?.reason).to.match(/twice/);
      expect(await snapshot(gateway)).to.deep.equal(before);
    });
  });

  describe('for an unknown dataset', function () {
    it('answers 404 unknown_dataset', async function () {
      const before = await snapshot(gateway);
      const error = await refusal(client.send('POST', '/v1/ingest/no_such_dataset', {
        body: bodyOf('ndjson', [arrears('2024-05')]), headers: { 'content-type': CONTENT_TYPES.ndjson },
      }));
      expectProblem(error, 404, 'unknown_dataset');
      expect(await snapshot(gateway)).to.deep.equal(before);
    });
  });

  describe('with an unsupported Content-Type', function () {
    it('answers 415 unsupported_format', async function () {
      const before = await snapshot(gateway);
      const error = await refusal(client.send('POST', INGEST_PATH, {
        body: bodyOf('ndjson', [arrears('2024-06')]), headers: { 'content-type': 'text/plain' },
      }));
      expectProblem(error, 415, 'unsupported_format');
      expect(await snapshot(gateway)).to.deep.equal(before);
    });
  });
});

describe('POST /v1/ingest/{dataset} with an Idempotency-Key', function () {
  let gateway: TestGateway;
  let client: GatewayClient;
  const key = 'arrears-upload-0001';
  const body = bodyOf('ndjson', [arrears('2026-07'), arrears('2026-08')]);
  let first: GatewayResponse;
  let firstReceipt: string;

  before(async function () {
    gateway = await startTestGateway();
    client = gateway.client(await gateway.enrol('source'));
    first = await ingestRequest(client, 'ndjson', body, { 'idempotency-key': key });
    firstReceipt = first.json<{ receipt: string }>().receipt;
  });

  after(async function () {
    await gateway?.stop();
  });

  it('stores the first request once (201)', async function () {
    expect(first.status).to.equal(201);
    expect(first.headers['idempotent-replayed']).to.equal(undefined);
    expect(await snapshot(gateway)).to.deep.equal({ records: 2, batches: 1 });
  });

  describe('retried with the same key and body under a new signature', function () {
    it('answers the same status with the byte-identical body and Idempotent-Replayed: true, storing nothing more', async function () {
      const again = await ingestRequest(client, 'ndjson', body, { 'idempotency-key': key });
      expect(again.status).to.equal(first.status);
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect(again.body.equals(first.body)).to.equal(true);

      const typed = await client.ingest(DATASET, body, { format: 'ndjson', idempotencyKey: key });
      expect(typed.replayed).to.equal(true);
      expect(typed.status).to.equal(201);
      expect(typed.receipt).to.equal(firstReceipt);
      expect(await snapshot(gateway)).to.deep.equal({ records: 2, batches: 1 });
    });
  });

  describe('reused with another body', function () {
    it('answers 422 idempotency_key_reused and stores nothing', async function () {
      const error = await refusal(ingestRequest(client, 'ndjson', bodyOf('ndjson', [arrears('2026-09')]), { 'idempotency-key': key }));
      expectProblem(error, 422, 'idempotency_key_reused');
      expect(await snapshot(gateway)).to.deep.equal({ records: 2, batches: 1 });
    });
  });

  describe('a different key with the same body', function () {
    it('answers 200 with outcome duplicate and the first batch id, storing nothing twice', async function () {
      const result = await client.ingest(DATASET, body, { format: 'ndjson', idempotencyKey: 'arrears-upload-0002' });
      expect(result.status).to.equal(200);
      expect(result.replayed).to.equal(false);
      const firstClaims = (await client.verify(firstReceipt, RECEIPT_TYPE)).claims;
      expect(result.verified.claims).to.include({ outcome: 'duplicate', batch_id: firstClaims['batch_id'], content_sha256: sha256Hex(body) });
      expect(await snapshot(gateway)).to.deep.equal({ records: 2, batches: 1 });
    });
  });
});

describe('POST /v1/ingest/{dataset} with GATEWAY_MAX_BODY_BYTES=2048', function () {
  let gateway: TestGateway;
  let client: GatewayClient;

  before(async function () {
    gateway = await startTestGateway({ GATEWAY_MAX_BODY_BYTES: '2048' });
    client = gateway.client(await gateway.enrol('source'));
  });

  after(async function () {
    await gateway?.stop();
  });

  describe('with a body over the limit', function () {
    it('answers 413 body_too_large and stores nothing', async function () {
      const periods = Array.from({ length: 24 }, (_, index) => `20${24 + Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`);
      const body = bodyOf('ndjson', periods.map(arrears));
      expect(body.length).to.be.greaterThan(2048);
      const error = await refusal(ingestRequest(client, 'ndjson', body));
      expectProblem(error, 413, 'body_too_large');
      expect(await snapshot(gateway)).to.deep.equal({ records: 0, batches: 0 });
    });
  });

  describe('with a body under the limit', function () {
    it('stores it (201)', async function () {
      const result = await client.ingest(DATASET, bodyOf('ndjson', [arrears('2026-01')]), { format: 'ndjson' });
      expect(result.status).to.equal(201);
    });
  });
});

describe('public identity documents', function () {
  let gateway: TestGateway;

  before(async function () {
    gateway = await startTestGateway();
  });

  after(async function () {
    await gateway?.stop();
  });

  describe('GET /v1/ca', function () {
    it('answers the platform root certificate PEM', async function () {
      const response = await fetch(`${gateway.url}/v1/ca`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^application\/x-pem-file\b/);
      expect(await response.text()).to.equal(gateway.runtime.caCertificatePem);
    });
  });

  describe('GET /v1/participants/{id}/certificate', function () {
    it('answers a participant the certificate and status, and reflects a suspension on the next read', async function () {
      const participant = await gateway.enrol('source');
      const reader = gateway.client(await gateway.enrol('bank'));
      const read = async () => (await reader.send('GET', `/v1/participants/${participant.record.participantId}/certificate`)).json<Record<string, unknown>>();
      expect(await read()).to.include({
        participant_id: participant.record.participantId,
        role: 'source',
        status: 'active',
        certificate: participant.record.certificatePem,
        certificate_sha256: participant.record.certificateSha256,
      });
      await gateway.runtime.participants.changeStatus(participant.record.participantId, 'suspend');
      expect((await read())['status']).to.equal('suspended');
    });

    // The attack: list who takes part, their USCCs and who was suspended, by trying ids such as dev-enterprise,
    // enterprise-1, enterprise-2, ... without being anyone.
    it('answers 401 signature_missing to an unsigned request, for an id that exists and one that does not alike', async function () {
      const participant = await gateway.enrol('enterprise', { uscc: USCC });
      for (const id of [participant.record.participantId, 'enterprise-nobody']) {
        const response = await fetch(`${gateway.url}/v1/participants/${id}/certificate`);
        expect(response.status).to.equal(401);
        const problem = (await response.json()) as Problem;
        expect(problem.code).to.equal('signature_missing');
        expect(JSON.stringify(problem)).to.not.include(USCC);
      }
    });

    for (const [why, id] of [['an unknown id', 'source-nobody'], ['an id that is not a participant id', 'Not_An.Id']] as const) {
      it(`answers a participant 404 not_found to ${why}`, async function () {
        const reader = gateway.client(await gateway.enrol('auditor'));
        expectProblem(await refusal(reader.send('GET', `/v1/participants/${id}/certificate`)), 404, 'not_found');
      });
    }
  });

  describe('GET /.well-known/jwks.json', function () {
    it('answers public ES256 keys whose kid is their RFC 7638 thumbprint, cacheable with a max-age', async function () {
      const response = await fetch(`${gateway.url}/.well-known/jwks.json`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('cache-control')).to.match(/\bmax-age=\d+\b/);
      const { keys } = (await response.json()) as JSONWebKeySet;
      expect(keys).to.be.an('array').that.is.not.empty;
      for (const key of keys) {
        expect(key).to.not.have.property('d');
        expect(key.kid).to.equal(await calculateJwkThumbprint(key, 'sha256'));
      }
    });
  });

  describe('GET /.well-known/credit-gateway', function () {
    it('answers the gateway id', async function () {
      const response = await fetch(`${gateway.url}/.well-known/credit-gateway`);
      expect(response.status).to.equal(200);
      const discovery = (await response.json()) as { gateway_id: string; jwks_uri: string };
      expect(discovery.gateway_id).to.equal(gateway.config.gatewayId);
      expect(discovery.jwks_uri).to.equal('/.well-known/jwks.json');
    });
  });
});
