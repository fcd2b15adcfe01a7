// Pins the database check at start: flipped bytes in either database file stop the gateway with database_damaged,
// naming the file and the remedy, before anything is appended or signed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { AUDIT_DATABASE_FILE, DATABASE_FILE, openRuntime } from '../../gateway/runtime/index.js';
import { runCli } from '../support/cli.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const PAGE = 4096;

/** XORs the b-tree header of every page after the first: the pages that hold rows and indexes. */
function flipPageHeaders(file: string): void {
  const bytes = fs.readFileSync(file);
  expect(bytes.length).to.be.greaterThan(2 * PAGE);
  for (let page = 1; page < bytes.length / PAGE; page++) for (let i = 0; i < 12; i++) bytes[page * PAGE + i] ^= 0x5a;
  fs.writeFileSync(file, bytes);
}

describe('databases checked at start (runtime/databaseCheck.ts)', function () {
  this.timeout(60_000);
  let dir: string;
  let config: GatewayConfig;

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-dbcheck-'));
    config = testConfig(dir, { GATEWAY_INGEST_WORKERS: '1' });
    await prepareTestKeys(config);
    const runtime = (await openRuntime(config));
    for (let n = 0; n < 200; n++) await runtime.audit.log.append({ kind: 'audit.read', actor: 'auditor-1', details: { n, padding: 'x'.repeat(200) } });
    await runtime.close();
  });

  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const file of [DATABASE_FILE, AUDIT_DATABASE_FILE]) {
    it(`refuses to start on a damaged ${file}, naming it, and signs nothing`, async function () {
      const full = path.join(config.dataDir, file);
      const checkpoint = fs.readFileSync(config.checkpointFile, 'utf8');
      flipPageHeaders(full);
      let error: unknown;
      try {
        await openRuntime(config);
      } catch (caught) {
        error = caught;
      }
      expect(error).to.be.instanceOf(GatewayError);
      const refused = error as GatewayError;
      expect(refused.code).to.equal('database_damaged');
      expect(refused.message).to.include(`${full} is damaged`).and.include('restore the file').and.include('PRAGMA integrity_check');
      // The same from the command line, as an operator sees it, with no stack trace.
      const run = await runCli(dir, ['serve'], { PORT: '0', GATEWAY_DEMO_ENTERPRISES: '0' });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(new RegExp(`^error \\(database_damaged\\): ${full.replaceAll('.', '\\.')} is damaged`));
      expect(run.stderr).to.not.include('listening').and.not.include('    at ');
      expect(fs.readFileSync(config.checkpointFile, 'utf8')).to.equal(checkpoint);
    });
  }
});
