// Pins how the CLI answers a newcomer's mistakes: no gateway at the URL, a port already taken, a file that is not
// there, rows a running gateway refuses, a semicolon-separated CSV, an unknown dataset. Each is one line under a code
// of its own with what to do; none prints a stack trace unless --debug is given.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { failedWith, runCli, succeeded } from '../support/cli.js';
import type { Run } from '../support/cli.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const SOURCE = 'source-mistakes';
const HEADER = 'enterprise_name,uscc,arrears_period,arrears_amount';
/** A Node stack frame, as in "    at Server.setupListenHandle [as _listen2] (node:net:1908:16)". */
const STACK_FRAME = /^\s+at .+[(:]\d+/m;

/** A port nothing listens on: one the kernel gave us a moment ago. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function oneLineFailure(run: Run, code: string): string {
  expect(run.code, run.stderr).to.equal(1);
  expect(run.stderr).to.match(new RegExp(`^error \\(${code}\\): .+\\n$`));
  expect(run.stderr).not.to.match(STACK_FRAME);
  return run.stderr;
}

describe('gateway CLI, a newcomer\'s mistakes', function () {
  this.timeout(300_000);
  let root: string;
  let running: RunningServer;
  let file: (name: string) => string;
  const gateway = (args: readonly string[], env: Record<string, string> = {}) => runCli(root, args, { GATEWAY_URL: running.url, ...env });

  before(async function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-mistakes-'));
    file = (name) => path.join(root, name);
    const config = testConfig(root, { HOST: '127.0.0.1', PORT: '0', GATEWAY_INGEST_WORKERS: '1' });
    await prepareTestKeys(config);
    running = await startServer((await openRuntime(config)), createLogger('silent'), createMetrics());
    succeeded(await gateway(['participants', 'add', '--role', 'source', '--name', 'Bureau', '--id', SOURCE, '--datasets', 'medical_insurance_arrears', '--generate']));
    fs.writeFileSync(file('bad.csv'), `${HEADER}\nx,91310115MA1H8R7C6D,2026-13,-5\nAcme,91350100M000100Y43,2026-01,5\n`);
    fs.writeFileSync(file('semicolons.csv'), `${HEADER.replaceAll(',', ';')}\nAcme;91350100M000100Y43;2026-01;5\n`);
    fs.writeFileSync(file('good.csv'), `${HEADER}\nAcme,91350100M000100Y43,2026-01,5\n`);
  });

  after(async function () {
    await running?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe('when no gateway runs at the URL', function () {
    let plain: Run;
    let debug: Run;
    let asJson: Run;

    before(async function () {
      const url = `http://127.0.0.1:${await closedPort()}`;
      [plain, debug, asJson] = await Promise.all([
        gateway(['client', 'request', 'GET', '/v1/ca', '--as', SOURCE], { GATEWAY_URL: url }),
        gateway(['--debug', 'client', 'request', 'GET', '/v1/ca', '--as', SOURCE], { GATEWAY_URL: url }),
        gateway(['client', 'request', 'GET', '/v1/ca', '--as', SOURCE, '--json'], { GATEWAY_URL: url }),
      ]);
    });

    it('says gateway_unreachable in one line, naming the URL, npm start and GATEWAY_URL', function () {
      const line = oneLineFailure(plain, 'gateway_unreachable');
      expect(line).to.include('ECONNREFUSED').and.include('npm start').and.include('GATEWAY_URL');
    });

    it('prints the stack trace with --debug', function () {
      expect(debug.code).to.equal(1);
      expect(debug.stderr).to.include('error (gateway_unreachable)').and.match(STACK_FRAME);
    });

    it('answers gateway_unreachable in --json', function () {
      failedWith(asJson, 'gateway_unreachable');
    });
  });

  describe('when the port to serve on is taken', function () {
    it('says address_in_use in one line and exits, rather than a stack trace', async function () {
      const port = new URL(running.url).port;
      const run = await runCli(root, ['serve'], { PORT: port, HOST: '127.0.0.1', GATEWAY_DEMO_ENTERPRISES: '0' });
      expect(oneLineFailure(run, 'address_in_use')).to.include(`127.0.0.1:${port}`).and.include('PORT');
    });
  });

  describe('a file that is not there', function () {
    let ingest: Run;
    let consentCa: Run;

    before(async function () {
      fs.writeFileSync(file('consent.jws'), 'not.a.consent');
      [ingest, consentCa] = await Promise.all([
        gateway(['client', 'ingest', 'medical_insurance_arrears', file('missing.csv'), '--as', SOURCE]),
        gateway(['consent', 'verify', file('consent.jws'), '--ca', file('no-ca.cert.pem')]),
      ]);
    });

    it('client ingest: file_not_found, naming the file', function () {
      expect(oneLineFailure(ingest, 'file_not_found')).to.include(file('missing.csv'));
    });

    it('consent verify --ca: file_not_found, naming the file', function () {
      expect(oneLineFailure(consentCa, 'file_not_found')).to.include(file('no-ca.cert.pem'));
    });
  });

  describe('client ingest refused by the gateway', function () {
    let invalid: Run;
    let invalidJson: Run;
    let semicolons: Run;
    let unknownDataset: Run;

    before(async function () {
      [invalid, invalidJson, semicolons, unknownDataset] = await Promise.all([
        gateway(['client', 'ingest', 'medical_insurance_arrears', file('bad.csv'), '--as', SOURCE]),
        gateway(['client', 'ingest', 'medical_insurance_arrears', file('bad.csv'), '--as', SOURCE, '--json']),
        gateway(['client', 'ingest', 'medical_insurance_arrears', file('semicolons.csv'), '--as', SOURCE, '--json']),
        gateway(['client', 'ingest', 'medical_arrears', file('good.csv'), '--as', SOURCE, '--json']),
      ]);
    });

    it('lists each invalid row with its field and reason, as local ingest does', function () {
      expect(invalid.code).to.equal(1);
      const lines = invalid.stderr.trimEnd().split('\n');
      expect(lines[0]).to.match(/^error \(invalid_rows\): 1 invalid row\(s\); nothing was stored/);
      expect(lines.slice(1).map((line) => line.split(':')[0])).to.have.members(['  row 1, uscc', '  row 1, arrears_period', '  row 1, arrears_amount']);
      // The refused value (-5) is never quoted; the request id, a UUID, may contain "-5" by chance, so it is left out.
      expect(invalid.stderr.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '')).not.to.include('-5');
    });

    it('keeps the row errors in --json, inside the problem', function () {
      const { error } = failedWith(invalidJson, 'invalid_rows');
      const problem = error.problem as { errors: { row: number; field: string }[]; invalid_row_count: number };
      expect(problem.invalid_row_count).to.equal(1);
      expect(problem.errors.map((rowError) => rowError.field)).to.include.members(['arrears_period', 'arrears_amount']);
    });

    it('says the delimiter looks wrong for a semicolon-separated CSV', function () {
      const { error } = failedWith(semicolons, 'invalid_header');
      expect(error.message).to.include('delimiter looks wrong').and.include('";"');
    });

    it('lists the known datasets for an unknown one', function () {
      const { error } = failedWith(unknownDataset, 'unknown_dataset');
      expect(error.message).to.include('"medical_arrears"').and.include('medical_insurance_arrears').and.include('water_accounts');
    });
  });
});
