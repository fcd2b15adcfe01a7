// Pins transport security: HTTPS with the server certificate `gateway init --tls` issues, mutual TLS with participant
// certificates (GATEWAY_TLS_CLIENT_CERTS=require) bound to the request signer, the refusal of plain HTTP off loopback
// (GATEWAY_ALLOW_PLAINTEXT=1 to serve it anyway), and the validation of the TLS settings.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { expect } from 'chai';
import { GatewayClient, GatewayUnreachableError, signRequest } from '../../gateway/client/client.js';
import type { ClientOptions, ParticipantCredentials } from '../../gateway/client/client.js';
import { loadConfig } from '../../gateway/config/index.js';
import { createCertificateAuthority, generateRsaKeyPair, issueParticipantCertificate } from '../../gateway/crypto/x509.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { isLoopback, startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { CA_FILES } from '../../gateway/identity/index.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { packageRoot } from '../../gateway/paths.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { testConfig } from '../support/runtime.js';

const CLI = path.join(packageRoot, 'dist/gateway/cli/main.js');
const DATASET = 'medical_insurance_arrears';
const ARREARS_CSV = '企业名称,统一社会信用代码,欠缴所属期,欠缴金额\n济南明德机械有限公司,91350100M000100Y43,2024-11,1200.00\n';
/** Verification errors of a certificate that does not chain to the trusted root (which one depends on what the peer sends). */
const UNTRUSTED_CERTIFICATE = ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_SIGNATURE_FAILURE'];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Gateway {
  readonly runtime: Runtime;
  readonly running: RunningServer;
  readonly gatewayId: string;
}

interface Participant {
  readonly credentials: ParticipantCredentials;
  readonly publicKeyPem: string;
}

/** Runs `node dist/gateway/cli/main.js ...args` with its data and keys under `root`. */
function gatewayCli(root: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = {
      PATH: process.env['PATH'] ?? '', GATEWAY_DATA_DIR: path.join(root, 'data'), GATEWAY_KEYS_DIR: path.join(root, 'keys'), LOG_LEVEL: 'silent',
    };
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A gateway on 127.0.0.1 over the keys in `root/keys` and a data directory of its own. */
async function startGateway(root: string, dataDir: string, env: Record<string, string>): Promise<Gateway> {
  const config = testConfig(root, { GATEWAY_DATA_DIR: path.join(root, dataDir), HOST: '127.0.0.1', PORT: '0', GATEWAY_INGEST_WORKERS: '1', ...env });
  const runtime = (await openRuntime(config));
  try {
    return { runtime, running: await startServer(runtime, createLogger('silent'), createMetrics()), gatewayId: config.gatewayId };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

async function enrolSource(runtime: Runtime, participantId: string): Promise<Participant> {
  const pair = generateRsaKeyPair();
  const record = await runtime.participants.add({
    participantId, role: 'source', name: `Test source ${participantId}`, datasets: [DATASET], publicKeyPem: pair.publicKeyPem, certificateDays: 30,
  });
  return { credentials: { participantId, privateKeyPem: pair.privateKeyPem, certificatePem: record.certificatePem }, publicKeyPem: pair.publicKeyPem };
}

function clientOf(gateway: Gateway, credentials: ParticipantCredentials, options: Partial<ClientOptions>): GatewayClient {
  return new GatewayClient({ baseUrl: gateway.running.url, credentials, audience: gateway.gatewayId, ...options });
}

/** The code of the error a request failed with before any HTTP answer (the client says GatewayUnreachableError). */
async function transportFailure(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (error) {
    expect(error).to.be.instanceOf(GatewayUnreachableError);
    return (error as GatewayUnreachableError).reason;
  }
  throw new Error('the request succeeded');
}

interface HandshakeRefusal {
  /** The error code the client saw. */
  readonly client: string;
  /** Why the server dropped the connection: its verification error for the client certificate, else its TLS error code. */
  readonly server: string;
}

/** Runs a request the server should refuse in the TLS handshake, before any HTTP request is read. */
async function refusedHandshake(server: http.Server, attempt: () => Promise<unknown>): Promise<HandshakeRefusal> {
  let listener: ((error: NodeJS.ErrnoException, socket: TLSSocket) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const serverSide = new Promise<string>((resolve, reject) => {
    listener = (error, socket) => resolve(String(socket.authorizationError ?? error.code));
    server.on('tlsClientError', listener);
    timer = setTimeout(() => reject(new Error('the server reported no failed TLS handshake')), 5000);
  });
  try {
    const client = await transportFailure(attempt());
    return { client, server: await serverSide };
  } finally {
    clearTimeout(timer);
    if (listener) server.off('tlsClientError', listener);
  }
}

/**
 * A signed ingest sent over a TLS connection that presents `tls` as its client certificate, whoever signed it: what
 * GatewayClient never does, since it presents the signer's own certificate.
 */
async function ingestOverTls(gateway: Gateway, ca: string, tls: ParticipantCredentials, signer: ParticipantCredentials): Promise<{ status: number; body: Record<string, unknown> }> {
  const target = `/v1/ingest/${DATASET}`;
  const body = Buffer.from(ARREARS_CSV, 'utf8');
  const token = await signRequest(signer, { method: 'POST', path: target, body, audience: gateway.gatewayId });
  const url = new URL(gateway.running.url);
  return new Promise((resolve, reject) => {
    const request = https.request({
      hostname: url.hostname, port: url.port, path: target, method: 'POST', ca, cert: tls.certificatePem, key: tls.privateKeyPem,
      headers: { authorization: `JWS ${token}`, 'content-type': 'text/csv', 'content-length': String(body.length) },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

function configError(env: Record<string, string>): GatewayError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('the configuration was accepted');
}

describe('transport security', function () {
  this.timeout(30_000);
  let root: string;
  let caPem: string;
  let tlsEnv: Record<string, string>;

  before(async function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-tls-'));
    const init = await gatewayCli(root, ['init', '--tls', '--tls-hosts', '127.0.0.1,localhost', '--json']);
    expect(init.code, init.stderr).to.equal(0);
    caPem = fs.readFileSync(path.join(root, 'keys', CA_FILES.certificate), 'utf8');
    tlsEnv = {
      GATEWAY_TLS_CERT: path.join(root, 'keys', 'tls', 'server.cert.pem'),
      GATEWAY_TLS_KEY: path.join(root, 'keys', 'tls', 'server.key.pem'),
    };
  });

  after(function () {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe('gateway init --tls', function () {
    it('issues a server certificate from the platform CA for the hosts asked, its key written 0600', function () {
      const certificate = new X509Certificate(fs.readFileSync(tlsEnv['GATEWAY_TLS_CERT'] as string));
      const ca = new X509Certificate(caPem);
      expect(certificate.checkIssued(ca) && certificate.verify(ca.publicKey)).to.equal(true);
      expect(certificate.checkIP('127.0.0.1')).to.equal('127.0.0.1');
      expect(certificate.checkHost('localhost')).to.equal('localhost');
      expect(certificate.checkHost('gateway.example')).to.equal(undefined);
      expect((fs.statSync(tlsEnv['GATEWAY_TLS_KEY'] as string).mode & 0o777).toString(8)).to.equal('600');
    });

    it('leaves an existing server certificate alone when run again', async function () {
      const before = fs.readFileSync(tlsEnv['GATEWAY_TLS_CERT'] as string, 'utf8');
      const again = await gatewayCli(root, ['init', '--tls', '--json']);
      expect(again.code, again.stderr).to.equal(0);
      expect((JSON.parse(again.stdout) as { created: string[] }).created).to.deep.equal([]);
      expect(fs.readFileSync(tlsEnv['GATEWAY_TLS_CERT'] as string, 'utf8')).to.equal(before);
    });
  });

  describe('with GATEWAY_TLS_CERT and GATEWAY_TLS_KEY', function () {
    let gateway: Gateway;
    let source: Participant;

    before(async function () {
      gateway = await startGateway(root, 'data-tls', tlsEnv);
      source = await enrolSource(gateway.runtime, 'source-tls');
    });

    after(async function () {
      await gateway?.running.stop();
    });

    it('serves HTTPS', function () {
      expect(gateway.running.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    });

    it('stores a signed ingest from a client that trusts the platform CA', async function () {
      const result = await clientOf(gateway, source.credentials, { caCertificatePem: caPem }).ingest(DATASET, ARREARS_CSV, { format: 'csv' });
      expect(result.status).to.equal(201);
      expect(result.verified.claims['outcome']).to.equal('stored');
      expect(result.verified.claims['row_count']).to.equal(1);
    });

    it('fails the handshake of a client that does not trust the platform CA', async function () {
      const code = await transportFailure(clientOf(gateway, source.credentials, {}).ingest(DATASET, ARREARS_CSV, { format: 'csv' }));
      expect(UNTRUSTED_CERTIFICATE).to.include(code);
    });
  });

  describe('with GATEWAY_TLS_CLIENT_CERTS=require', function () {
    let gateway: Gateway;
    let first: Participant;
    let second: Participant;

    before(async function () {
      gateway = await startGateway(root, 'data-mtls', { ...tlsEnv, GATEWAY_TLS_CLIENT_CERTS: 'require' });
      first = await enrolSource(gateway.runtime, 'source-first');
      second = await enrolSource(gateway.runtime, 'source-second');
    });

    after(async function () {
      await gateway?.running.stop();
    });

    it('lets through a participant presenting its own certificate', async function () {
      const client = clientOf(gateway, first.credentials, { caCertificatePem: caPem, tlsClientCertificate: true });
      const result = await client.ingest(DATASET, ARREARS_CSV, { format: 'csv' });
      expect(result.status).to.equal(201);
      expect(result.verified.claims['source']).to.equal('source-first');
    });

    it('refuses a client presenting no certificate at the handshake', async function () {
      const client = clientOf(gateway, first.credentials, { caCertificatePem: caPem, tlsClientCertificate: false });
      const refusal = await refusedHandshake(gateway.running.server, () => client.ingest(DATASET, ARREARS_CSV, { format: 'csv' }));
      expect(refusal.server).to.equal('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
      // TLS 1.3: the client hears the server's certificate_required alert, or a reset if it raced ahead with the request.
      expect(['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ECONNRESET']).to.include(refusal.client);
    });

    it('refuses at the handshake a certificate from another CA, even one with the same names for the same key', async function () {
      const impostor = createCertificateAuthority({ commonName: `${gateway.gatewayId} root CA` });
      const certificatePem = issueParticipantCertificate(impostor, {
        participantId: 'source-first', role: 'source', name: 'Test source source-first', publicKeyPem: first.publicKeyPem, days: 30,
      });
      const client = clientOf(gateway, { ...first.credentials, certificatePem }, { caCertificatePem: caPem, tlsClientCertificate: true });
      const refusal = await refusedHandshake(gateway.running.server, () => client.ingest(DATASET, ARREARS_CSV, { format: 'csv' }));
      expect(UNTRUSTED_CERTIFICATE).to.include(refusal.server);
      // Node drops a connection whose client certificate fails verification without an alert.
      expect(['ECONNRESET', 'EPIPE']).to.include(refusal.client);
    });

    it('answers 401 client_certificate_mismatch to a participant whose TLS certificate is its own but who signs as another', async function () {
      const answer = await ingestOverTls(gateway, caPem, first.credentials, second.credentials);
      expect(answer.status).to.equal(401);
      expect(answer.body['code']).to.equal('client_certificate_mismatch');
    });
  });

  describe('plain HTTP', function () {
    it('is refused on a non-loopback address with invalid_configuration saying why and what to set', async function () {
      let refusal: unknown;
      try {
        const gateway = await startGateway(root, 'data-plain', { HOST: '0.0.0.0' });
        await gateway.running.stop();
      } catch (error) {
        refusal = error;
      }
      expect(refusal).to.be.instanceOf(GatewayError);
      const error = refusal as GatewayError;
      expect(error.code).to.equal('invalid_configuration');
      expect(error.message).to.include('0.0.0.0').and.include('eavesdropping').and.include('GATEWAY_TLS_CERT').and.include('GATEWAY_ALLOW_PLAINTEXT=1');
    });

    it('is served on a non-loopback address with GATEWAY_ALLOW_PLAINTEXT=1 (behind a TLS-terminating proxy)', async function () {
      // It binds 0.0.0.0 for an instant; no request is sent to it.
      const gateway = await startGateway(root, 'data-plain', { HOST: '0.0.0.0', GATEWAY_ALLOW_PLAINTEXT: '1' });
      try {
        expect(gateway.running.url).to.match(/^http:\/\/0\.0\.0\.0:\d+$/);
      } finally {
        await gateway.running.stop();
      }
    });

    describe('isLoopback', function () {
      const cases: ReadonlyArray<readonly [string, boolean]> = [
        ['127.0.0.1', true], ['127.1.2.3', true], ['::1', true], ['[::1]', true], ['localhost', true],
        ['0.0.0.0', false], ['10.0.0.1', false], ['::', false], ['127.evil.example', false], ['::ffff:10.0.0.1', false],
      ];
      for (const [host, loopback] of cases) {
        it(`${loopback ? 'counts' : 'does not count'} ${host} as loopback`, function () {
          expect(isLoopback(host)).to.equal(loopback);
        });
      }
    });
  });

  describe('TLS configuration', function () {
    it('refuses GATEWAY_TLS_CERT without GATEWAY_TLS_KEY with invalid_configuration', function () {
      const error = configError({ GATEWAY_TLS_CERT: 'server.cert.pem' });
      expect(error.code).to.equal('invalid_configuration');
      expect(error.message).to.include('GATEWAY_TLS_KEY');
    });

    it('refuses GATEWAY_TLS_KEY without GATEWAY_TLS_CERT with invalid_configuration', function () {
      expect(configError({ GATEWAY_TLS_KEY: 'server.key.pem' }).code).to.equal('invalid_configuration');
    });

    it('refuses GATEWAY_TLS_CLIENT_CERTS=require without a server certificate with invalid_configuration', function () {
      const error = configError({ GATEWAY_TLS_CLIENT_CERTS: 'require' });
      expect(error.code).to.equal('invalid_configuration');
      expect(error.message).to.include('GATEWAY_TLS_CERT');
    });

    it('refuses a GATEWAY_TLS_CLIENT_CERTS other than off or require with invalid_configuration', function () {
      expect(configError({ GATEWAY_TLS_CERT: 'c.pem', GATEWAY_TLS_KEY: 'k.pem', GATEWAY_TLS_CLIENT_CERTS: 'optional' }).code).to.equal('invalid_configuration');
    });

    it('refuses a GATEWAY_ALLOW_PLAINTEXT that is not a flag with invalid_configuration', function () {
      expect(configError({ GATEWAY_ALLOW_PLAINTEXT: 'yes' }).code).to.equal('invalid_configuration');
    });

    it('resolves the certificate and key against the working directory', function () {
      const config = loadConfig({ GATEWAY_TLS_CERT: 'tls/c.pem', GATEWAY_TLS_KEY: '/etc/k.pem', GATEWAY_DATA_DIR: 'data', GATEWAY_KEYS_DIR: 'keys' }, '/srv/gateway');
      expect(config.tls).to.deep.equal({ certFile: '/srv/gateway/tls/c.pem', keyFile: '/etc/k.pem', clientCertificates: 'off' });
    });
  });
});
