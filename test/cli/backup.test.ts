// `gateway backup` while the gateway serves, and `gateway restore` into an empty data directory or database: the
// restored log verifies against the checkpoint kept with the backup, and the gateway starts on what was restored.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { openRuntime } from '../../gateway/runtime/index.js';
import { failedWith, json, runCli, succeeded } from '../support/cli.js';
import { startTestGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { startPostgres } from '../support/postgres.js';
import { ndjson, testConfig } from '../support/runtime.js';

interface Manifest {
  engine: string;
  checkpoint: { tree_size: number } | null;
  files: { name: string; sha256: string }[];
}

interface Restored {
  manifest: Manifest;
  verification: { ok: boolean; tree_size: number; saved_checkpoints: { checked: boolean; tree_size: number }[] };
}

/** The same scenario on each engine: `database()` gives the URL of a fresh database, or undefined for SQLite. */
function backupAndRestore(engine: string, database: () => Promise<string | undefined>): void {
  describe(`gateway backup and restore: ${engine}`, function () {
    this.timeout(180_000);
    let gateway: TestGateway;
    let env: Record<string, string>;
    let backupDir: string;
    let manifest: Manifest;
    let sizeAtBackup: number;

    before(async function () {
      const url = await database();
      if (engine === 'postgres' && url === undefined) this.skip();
      gateway = await startTestGateway(url === undefined ? {} : { GATEWAY_DATABASE_URL: url });
      const source = await gateway.enrol('source');
      await gateway.client(source).ingest('medical_insurance_arrears', ndjson([
        { enterprise_name: '福州某某科技有限公司', uscc: '91350100M000100Y43', arrears_period: '2026-09', arrears_amount: '88.00' },
      ]), { format: 'ndjson' });
      await gateway.runtime.audit.checkpointer.checkpointNow();
      sizeAtBackup = await gateway.runtime.audit.log.size();
      env = { GATEWAY_DATA_DIR: gateway.config.dataDir, GATEWAY_KEYS_DIR: gateway.config.keysDir, ...(url === undefined ? {} : { GATEWAY_DATABASE_URL: url }) };
      backupDir = path.join(gateway.dir, 'backup');
      // Online: the gateway keeps serving (and writing) while the backup is taken, and after it.
      manifest = json<Manifest>(succeeded(await runCli(gateway.dir, ['backup', backupDir, '--json'], env)));
      await gateway.enrol('bank');
    });

    after(async function () {
      await gateway?.stop();
    });

    it('writes the databases, the key fingerprints and the checkpoint, with their SHA-256 sums', function () {
      expect(manifest.engine).to.equal(engine);
      expect(manifest.checkpoint?.tree_size).to.equal(sizeAtBackup);
      expect(manifest.files.map((file) => file.name)).to.include.members(['audit-checkpoint.txt', 'key-fingerprints.json',
        ...(engine === 'sqlite' ? ['gateway.sqlite', 'audit.sqlite'] : ['gateway.pgdump'])]);
      for (const file of fs.readdirSync(backupDir)) expect(fs.statSync(path.join(backupDir, file)).mode & 0o077, file).to.equal(0);
    });

    it('refuses to write a backup over another', async function () {
      failedWith(await runCli(gateway.dir, ['backup', backupDir, '--json'], env), 'invalid_argument');
    });

    it('restores into an empty place, verifies the log against the backup\'s checkpoint, and the gateway starts on it', async function () {
      const url = await database();
      const restoredDir = path.join(gateway.dir, 'restored');
      const target = { ...env, GATEWAY_DATA_DIR: restoredDir, ...(url === undefined ? {} : { GATEWAY_DATABASE_URL: url }) };
      const restored = json<Restored>(succeeded(await runCli(gateway.dir, ['restore', backupDir, '--json'], target)));
      expect(restored.verification.ok).to.equal(true);
      expect(restored.verification.tree_size).to.equal(sizeAtBackup);
      expect(restored.verification.saved_checkpoints).to.deep.equal([{ ...restored.verification.saved_checkpoints[0], checked: true, tree_size: sizeAtBackup }]);
      // Opens as a gateway: the key fingerprints match, and the log extends the checkpoint file restored with it.
      const runtime = await openRuntime(testConfig(gateway.dir, target));
      try {
        expect(await runtime.audit.log.size()).to.equal(sizeAtBackup);
        expect((await runtime.store.listParticipants()).map((participant) => participant.role)).to.include('source');
      } finally {
        await runtime.close();
      }
      // And never over what is there now.
      failedWith(await runCli(gateway.dir, ['restore', backupDir, '--json'], target), 'invalid_argument');
    });

    it('refuses a backup whose files do not match their sums', async function () {
      const damagedDir = path.join(gateway.dir, 'damaged');
      fs.cpSync(backupDir, damagedDir, { recursive: true });
      const dump = path.join(damagedDir, manifest.files.find((file) => file.name !== 'audit-checkpoint.txt' && file.name !== 'key-fingerprints.json')!.name);
      fs.appendFileSync(dump, Buffer.from([0]));
      const url = await database();
      failedWith(await runCli(gateway.dir, ['restore', damagedDir, '--json'], {
        ...env, GATEWAY_DATA_DIR: path.join(gateway.dir, 'restored-damaged'), ...(url === undefined ? {} : { GATEWAY_DATABASE_URL: url }),
      }), 'database_damaged');
    });
  });
}

backupAndRestore('sqlite', async () => undefined);
backupAndRestore('postgres', async () => (await startPostgres())?.createDatabase());
