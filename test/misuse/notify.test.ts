// Misuse flags to the operator's webhook: each flag POSTed once as a JWS the gateway's JWKS verifies, retried when the
// receiver fails, and given up on (logged) after three tries, never thrown at the scan.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { parseAllowedNetworks, resolveWebhookTarget } from '../../gateway/identity/webhookTarget.js';
import { createMisuseNotifier } from '../../gateway/misuse/index.js';
import type { MisuseFlag } from '../../gateway/misuse/index.js';
import { createLogger } from '../../gateway/observability/index.js';
import { openTestRuntime } from '../support/runtime.js';
import type { TestRuntime } from '../support/runtime.js';

const FLAG: MisuseFlag = {
  auditIndex: 41, rule: 'subjects_without_loans', bank: 'bank-prober', severity: 'high', evidence: { subjects: 250, max_subjects: 200 },
  windowFrom: '2026-12-04T00:00:00.000Z', windowTo: '2026-12-04T01:00:00.000Z', suspended: true,
};

describe('misuse flags to the operator\'s webhook', function () {
  let t: TestRuntime;
  let server: http.Server;
  let url: string;
  /** The status each next request is answered with (200 once the list is empty); the bodies received. */
  let answers: number[] = [];
  const received: string[] = [];
  const logged: string[] = [];

  const notifier = () => createMisuseNotifier({
    url, signer: t.runtime.signer, timeoutMs: 5_000, retryMs: 10,
    resolveTarget: (target) => resolveWebhookTarget(target, parseAllowedNetworks('127.0.0.0/8')),
    logger: createLogger('error', new Writable({ write(chunk: Buffer, _encoding, done) { logged.push(chunk.toString()); done(); } })),
  });

  before(async function () {
    t = await openTestRuntime();
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => {
        received.push(body);
        res.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/misuse`;
  });
  beforeEach(() => {
    answers = [];
    received.length = 0;
    logged.length = 0;
  });
  after(async function () {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t?.dispose();
  });

  it('POSTs each flag once, as a JWS of the flag signed with the gateway\'s published key', async function () {
    await notifier()([FLAG]);
    expect(received).to.have.length(1);
    const jwks: JSONWebKeySet = { keys: t.runtime.signingKeys.published() };
    const { payload } = await compactVerify(received[0]!, createLocalJWKSet(jwks));
    expect(decodeProtectedHeader(received[0]!).typ).to.equal('gateway-misuse-flag+jwt');
    expect(JSON.parse(Buffer.from(payload).toString('utf8'))).to.deep.include({
      aud: 'operator', audit_index: 41, rule: 'subjects_without_loans', bank: 'bank-prober', severity: 'high', suspended: true,
      evidence: { subjects: 250, max_subjects: 200 },
    });
    expect(logged).to.deep.equal([]);
  });

  it('tries again when the receiver fails, and stops once it takes the flag', async function () {
    answers = [503, 500];
    await notifier()([FLAG]);
    expect(received).to.have.length(3);
    expect(new Set(received).size, 'the same signed flag each time').to.equal(1);
    expect(logged).to.deep.equal([]);
  });

  it('gives up after three tries with an error in the log, without throwing at the scan', async function () {
    answers = [500, 500, 500];
    await notifier()([FLAG]);
    expect(received).to.have.length(3);
    expect(logged.join('')).to.include('misuse webhook did not take the flag').and.include('"audit_index":41');
  });

  it('refuses a receiver on a network the operator did not allow, as for banks\' webhooks', async function () {
    const strict = createMisuseNotifier({
      url, signer: t.runtime.signer, timeoutMs: 5_000, retryMs: 1,
      resolveTarget: (target) => resolveWebhookTarget(target, parseAllowedNetworks(undefined)),
      logger: createLogger('error', new Writable({ write(chunk: Buffer, _encoding, done) { logged.push(chunk.toString()); done(); } })),
    });
    await strict([FLAG]);
    expect(received).to.deep.equal([]);
    expect(logged.join('')).to.include('misuse webhook did not take the flag');
  });
});
