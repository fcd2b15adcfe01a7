// Pins the HTTP surface on a real server (127.0.0.1, port 0): health, readiness, metrics, problem details, request ids, and graceful shutdown of `gateway serve`.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../gateway/config/index.js';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { countIngestedBatch, createLogger, createMetrics } from '../../gateway/observability/index.js';
import type { Metrics } from '../../gateway/observability/index.js';
import { packageRoot } from '../../gateway/paths.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { prepareTestKeys } from '../support/runtime.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { metricsText, samples, valueOf } from '../support/metrics.js';

const CLI = path.join(packageRoot, 'dist/gateway/cli/main.js');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly request_id: string;
}

interface Gateway {
  readonly runtime: Runtime;
  readonly metrics: Metrics;
  readonly running: RunningServer;
}

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-http-'));
}

function testConfig(root: string): GatewayConfig {
  return loadConfig({
    GATEWAY_DATA_DIR: path.join(root, 'data'),
    GATEWAY_KEYS_DIR: path.join(root, 'keys'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    GATEWAY_INGEST_WORKERS: '1',
  });
}

/** Opens the runtime with the same metrics wiring as `gateway serve`, and listens. */
async function startGateway(config: GatewayConfig): Promise<Gateway> {
  await prepareTestKeys(config);
  const metrics = createMetrics();
  const runtime = await openRuntime(config, { onBatch: (receipt) => countIngestedBatch(metrics, receipt) });
  const running = await startServer(runtime, createLogger('silent'), metrics);
  return { runtime, metrics, running };
}

async function* bytesOf(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text, 'utf8');
}

function ndjson(rows: readonly Record<string, string>[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

async function problemOf(response: Response): Promise<Problem> {
  expect(response.headers.get('content-type')).to.match(/^application\/problem\+json\b/);
  return (await response.json()) as Problem;
}

describe('HTTP server', function () {
  let root: string;
  let gateway: Gateway;
  let url: string;

  before(async function () {
    root = tempRoot();
    gateway = await startGateway(testConfig(root));
    url = gateway.running.url;
  });

  after(async function () {
    await gateway?.running.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 on an ephemeral port', function () {
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(url).port)).to.be.greaterThan(0);
  });

  describe('GET /healthz', function () {
    it('answers 200 ok', async function () {
      const response = await fetch(`${url}/healthz`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^application\/json\b/);
      expect(await response.json()).to.deep.equal({ status: 'ok' });
    });

    it('carries an X-Request-Id', async function () {
      const response = await fetch(`${url}/healthz`);
      await response.arrayBuffer();
      expect(response.headers.get('x-request-id')).to.match(UUID);
    });
  });

  describe('GET /readyz', function () {
    it('answers 200 when the store is open', async function () {
      const response = await fetch(`${url}/readyz`);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ status: 'ready', engine: 'sqlite' });
      expect(response.headers.get('x-request-id')).to.be.a('string').and.not.be.empty;
    });
  });

  describe('X-Request-Id', function () {
    it('echoes a well-formed inbound id', async function () {
      const id = 'req-2026.01_abcDEF';
      const response = await fetch(`${url}/healthz`, { headers: { 'X-Request-Id': id } });
      await response.arrayBuffer();
      expect(response.headers.get('x-request-id')).to.equal(id);
    });

    for (const [why, inbound] of [['with spaces', 'bad id with spaces'], ['200 characters long', 'a'.repeat(200)], ['too short', 'abc'], ['with a slash', 'abc/defghij']] as const) {
      it(`replaces a malformed inbound id (${why}) with a generated one`, async function () {
        const response = await fetch(`${url}/healthz`, { headers: { 'X-Request-Id': inbound } });
        await response.arrayBuffer();
        const echoed = response.headers.get('x-request-id');
        expect(echoed).to.match(UUID);
        expect(echoed).to.not.equal(inbound);
      });
    }

    it('generates a different id for each request', async function () {
      const ids = await Promise.all([1, 2, 3].map(async () => {
        const response = await fetch(`${url}/healthz`);
        await response.arrayBuffer();
        return response.headers.get('x-request-id');
      }));
      expect(new Set(ids).size).to.equal(3);
    });
  });

  describe('an unknown path', function () {
    it('answers 404 application/problem+json not_found with the request id', async function () {
      const response = await fetch(`${url}/no/such/resource-4711`);
      expect(response.status).to.equal(404);
      const problem = await problemOf(response);
      const header = response.headers.get('x-request-id');
      expect(header).to.match(UUID);
      expect(problem.type).to.equal('urn:credit-gateway:problem:not_found');
      expect(problem.code).to.equal('not_found');
      expect(problem.status).to.equal(404);
      expect(problem.title).to.be.a('string').and.not.be.empty;
      expect(problem.request_id).to.equal(header);
    });

    it('puts an inbound well-formed request id into the problem body', async function () {
      const response = await fetch(`${url}/nothing-here`, { method: 'POST', headers: { 'X-Request-Id': 'client-trace-0001' } });
      expect(response.status).to.equal(404);
      const problem = await problemOf(response);
      expect(response.headers.get('x-request-id')).to.equal('client-trace-0001');
      expect(problem.request_id).to.equal('client-trace-0001');
    });
  });

  describe('GET /metrics', function () {
    it('is Prometheus text with request counts labelled by route template, never by raw path', async function () {
      await (await fetch(`${url}/healthz`)).arrayBuffer();
      await (await fetch(`${url}/no/such/resource-4711`)).arrayBuffer();
      const response = await fetch(`${url}/metrics`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^text\/plain\b/);
      expect(response.headers.get('x-request-id')).to.match(UUID);
      const text = await response.text();
      expect(text).to.include('# TYPE gateway_http_requests_total counter');
      expect(valueOf(text, 'gateway_http_requests_total', { method: 'GET', route: '/healthz', status: '200' })).to.be.at.least(1);
      expect(valueOf(text, 'gateway_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).to.be.at.least(1);
      const routes = samples(text, 'gateway_http_requests_total').map((sample) => sample.labels['route']);
      expect(routes.filter((route) => route?.includes('resource-4711'))).to.deep.equal([]);
      expect(text).to.include('# TYPE gateway_rows_ingested_total counter');
      expect(text).to.include('gateway_http_request_duration_seconds_bucket');
    });

    it('counts rows stored through the ingestor, once per stored batch (not for duplicates)', async function () {
      const rows = [
        { enterprise_name: '济南明德机械有限公司', uscc: '91350100M000100Y43', arrears_period: '2026-01', arrears_amount: '1200.00' },
        { enterprise_name: '济南明德机械有限公司', uscc: '91350100M000100Y43', arrears_period: '2026-02', arrears_amount: '0' },
      ];
      const ingest = () => gateway.runtime.ingestor.ingest({ dataset: 'medical_insurance_arrears', format: 'ndjson', input: bytesOf(ndjson(rows)), source: 'test' });
      const first = await ingest();
      expect(first.outcome).to.equal('stored');
      expect(first.rowCount).to.equal(2);
      const labels = { dataset: 'medical_insurance_arrears' };
      expect(valueOf(await metricsText(url), 'gateway_rows_ingested_total', labels)).to.equal(2);

      const again = await ingest();
      expect(again.outcome).to.equal('duplicate');
      const text = await metricsText(url);
      expect(valueOf(text, 'gateway_rows_ingested_total', labels)).to.equal(2);
      expect(valueOf(text, 'gateway_batches_ingested_total', { ...labels, outcome: 'stored' })).to.equal(1);
    });
  });
});

describe('HTTP server with its store closed', function () {
  let root: string;
  let gateway: Gateway;

  before(async function () {
    root = tempRoot();
    gateway = await startGateway(testConfig(root));
    await gateway.runtime.store.close();
  });

  after(async function () {
    await gateway?.running.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe('GET /readyz', function () {
    it('answers 503 application/problem+json storage_unavailable', async function () {
      const response = await fetch(`${gateway.running.url}/readyz`, { headers: { 'X-Request-Id': 'probe-00000001' } });
      expect(response.status).to.equal(503);
      const problem = await problemOf(response);
      expect(problem.code).to.equal('storage_unavailable');
      expect(problem.type).to.equal('urn:credit-gateway:problem:storage_unavailable');
      expect(problem.status).to.equal(503);
      expect(response.headers.get('x-request-id')).to.equal('probe-00000001');
      expect(problem.request_id).to.equal('probe-00000001');
    });
  });

  describe('GET /healthz', function () {
    it('still answers 200 ok (liveness does not depend on the store)', async function () {
      const response = await fetch(`${gateway.running.url}/healthz`);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ status: 'ok' });
    });
  });
});

interface ServeProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnServe(root: string): ServeProcess {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      GATEWAY_DATA_DIR: path.join(root, 'data'),
      GATEWAY_KEYS_DIR: path.join(root, 'keys'),
      GATEWAY_DEMO_ENTERPRISES: '20',
      GATEWAY_INGEST_WORKERS: '1',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Resolves with the match once `pattern` appears on the child's stderr; rejects on exit or timeout. */
function awaitStderr(serve: ServeProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(serve.stderr());
      if (match) {
        finish();
        resolve(match);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no ${String(pattern)} on stderr within ${timeoutMs} ms; stderr: ${serve.stderr()}`));
    }, timeoutMs);
    const onExit = () => {
      finish();
      reject(new Error(`serve exited early; stderr: ${serve.stderr()}`));
    };
    const finish = () => {
      clearTimeout(timer);
      serve.child.stderr?.off('data', check);
      serve.child.off('exit', onExit);
    };
    serve.child.stderr?.on('data', check);
    serve.child.once('exit', onExit);
    check();
  });
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('gateway serve (the real CLI)', function () {
  // Generous: making the keys and the demo population takes seconds on a loaded machine.
  this.timeout(300_000);
  let root: string;
  let serve: ServeProcess | undefined;
  let url: string;

  before(async function () {
    root = tempRoot();
    serve = spawnServe(root);
    const match = await awaitStderr(serve, /gateway listening on (http:\/\/127\.0\.0\.1:\d+)/, 180_000);
    url = match[1] as string;
  });

  after(async function () {
    if (serve && serve.child.exitCode === null && serve.child.signalCode === null) {
      serve.child.kill('SIGKILL');
      await serve.exited;
    }
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('answers GET /healthz', async function () {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ status: 'ok' });
  });

  it('loaded the demo population through ingestion (gateway_rows_ingested_total > 0)', async function () {
    const rows = samples(await metricsText(url), 'gateway_rows_ingested_total');
    expect(rows.some((sample) => sample.value > 0 && sample.labels['dataset'] !== undefined)).to.equal(true);
  });

  it('on SIGTERM stops gracefully: exit code 0, "gateway stopped" logged', async function () {
    const running = serve as ServeProcess;
    expect(running.child.kill('SIGTERM')).to.equal(true);
    const { code, signal } = await within(running.exited, 60_000, 'exit after SIGTERM');
    expect(signal).to.equal(null);
    expect(code).to.equal(0);
    const messages = logLines(running.stdout()).map((line) => line['msg']);
    expect(messages).to.include('gateway listening');
    expect(messages).to.include('shutting down');
    expect(messages).to.include('gateway stopped');
    expect(messages.indexOf('gateway stopped')).to.be.greaterThan(messages.indexOf('shutting down'));
  });

  it('leaves a database that opens again with the records in it', async function () {
    const config = testConfig(root);
    const runtime = (await openRuntime(config));
    try {
      await runtime.store.ping();
      expect(await runtime.store.countRecords()).to.be.greaterThan(0);
      expect((await runtime.store.listBatches(100)).every((batch) => batch.source === 'demo-data')).to.equal(true);
    } finally {
      await runtime.close();
    }
  });
});
