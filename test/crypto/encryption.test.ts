// Records at rest: nothing readable in the data directory's bytes, ciphertexts bound to their rows, keys that
// rotate without losing a record.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cryptoProfile, sealedKeyId, CRYPTO_PROFILES } from '../../gateway/crypto/index.js';
import { reencryptStep } from '../../gateway/keys/index.js';
import { DATABASE_FILE } from '../../gateway/runtime/index.js';
import { execFileSync } from 'node:child_process';
import { startPostgres } from '../support/postgres.js';
import { bytes, ndjson, openTestRuntime } from '../support/runtime.js';
import type { TestRuntime } from '../support/runtime.js';
import { rejection } from '../support/rejection.js';

const NAME = '济南秘密精密仪器有限公司';
const USCC = '91350100M000100Y43';
const RESIDENT_ID = '11010519491231002X';
const ADDRESS = '济南市历下区泉城路秘密大厦1234号';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)]);
}

/** The needles in the encodings a careless store might use. */
function encodings(needle: string): Buffer[] {
  return [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le')];
}

const NEEDLES = [NAME, USCC, RESIDENT_ID, ADDRESS, '31415.92', '3141592', '27182.81', '2718281', 'W-778899', '王秘密', '2015-03-02'];

/** One record with every kind of sensitive value, in two datasets. */
async function ingestSecrets(t: TestRuntime): Promise<void> {
  const ingest = (dataset: string, rows: object[]) =>
    t.runtime.ingestor.ingest({ dataset, format: 'ndjson', source: 'test', asOf: '2026-11-01', input: bytes(ndjson(rows), 512) });
  await ingest('water_accounts', [{
    enterprise_name: NAME, uscc: USCC, account_number: 'W-778899', account_opening_date: '2015-03-02', service_address: ADDRESS,
    prepaid_amount: '31415.92', arrears_amount: '27182.81', one_meter_per_household: true,
  }]);
  await ingest('large_growers', [{ grower_name: '王秘密', id_type: 'resident_id', id_number: RESIDENT_ID, address: ADDRESS }]);
}

/** The needles are findable through the gateway, so a scan that finds none of them is not vacuous. */
async function expectReadable(t: TestRuntime): Promise<void> {
  const [record] = (await t.runtime.records.bySubject('water_accounts', { idType: 'uscc', idNumber: USCC }));
  expect(record?.values).to.include({ enterprise_name: NAME, prepaid_amount: 3141592, arrears_amount: 2718281 });
}

for (const profile of CRYPTO_PROFILES) describe(`encryption at rest, ${profile} profile`, () => {
  let t: TestRuntime;
  beforeEach(async () => {
    t = await openTestRuntime({ GATEWAY_CRYPTO_PROFILE: profile });
    await ingestSecrets(t);
  });

  it(`seals every record with ${cryptoProfile(profile).aead.name} under a key of its size`, async () => {
    const sealed = await t.runtime.store.scanSealed(0, 100);
    expect(sealed.map((row) => row.sealed[0])).to.deep.equal(profile === 'gm' ? [0x02, 0x02] : [0x01, 0x01]);
    expect(t.runtime.keyring.current()).to.include({ aead: cryptoProfile(profile).aead.name });
    expect(t.runtime.keyring.current().secret).to.have.length(cryptoProfile(profile).aead.keyBytes);
  });
  afterEach(() => t.dispose());

  it('leaves no name, code, ID number, address or amount in any file of the data directory (database and WAL)', async () => {
    const files = filesUnder(t.config.dataDir);
    expect(files.map((file) => path.basename(file))).to.include.members([DATABASE_FILE, `${DATABASE_FILE}-wal`]);
    const contents = files.map((file) => ({ file, data: fs.readFileSync(file) }));
    expect(contents.reduce((sum, { data }) => sum + data.length, 0)).to.be.greaterThan(10_000);
    for (const needle of NEEDLES) {
      for (const { file, data } of contents) {
        for (const encoded of encodings(needle)) {
          expect(data.includes(encoded), `${needle} found in ${path.basename(file)}`).to.equal(false);
        }
      }
    }
    await expectReadable(t);
  });

  it('refuses a ciphertext moved onto another row', async () => {
    const db = new Database(path.join(t.config.dataDir, DATABASE_FILE));
    try {
      const rows = db.prepare('SELECT record_id, sealed FROM records ORDER BY record_id').all() as { record_id: number; sealed: Buffer }[];
      expect(rows).to.have.length(2);
      db.prepare('UPDATE records SET sealed = ? WHERE record_id = ?').run(rows[1]!.sealed, rows[0]!.record_id);
    } finally {
      db.close();
    }
    expect(await rejection(t.runtime.records.bySubject('water_accounts', { idType: 'uscc', idNumber: USCC }))).to.have.property('code', 'decryption_failed');
  });

  it('finds nothing for a subject that is not there', async () => {
    expect(await t.runtime.records.bySubject('water_accounts', { idType: 'uscc', idNumber: '91110108722619411A' })).to.deep.equal([]);
  });

  it('rotates the data key and re-encrypts every record under the new one, still readable', async () => {
    const before = (await t.runtime.store.scanSealed(0, 100)).map((row) => sealedKeyId(row.sealed));
    expect(before).to.deep.equal([1, 1]);
    const key = (await t.runtime.keyring.rotate());
    expect(key.id).to.equal(2);
    let progress = await reencryptStep(t.runtime.store, t.runtime.keyring, 0, 1);
    let reencrypted = progress.reencrypted;
    while (!progress.done) {
      progress = await reencryptStep(t.runtime.store, t.runtime.keyring, progress.lastRecordId, 1);
      reencrypted += progress.reencrypted;
    }
    expect(reencrypted).to.equal(2);
    expect((await t.runtime.store.scanSealed(0, 100)).map((row) => sealedKeyId(row.sealed))).to.deep.equal([2, 2]);
    expect((await t.runtime.records.bySubject('large_growers', { idType: 'resident_id', idNumber: RESIDENT_ID }))[0]?.values).to.include({ grower_name: '王秘密' });
  });

  it('writes key files readable by their owner only (certificates are public)', () => {
    for (const file of fs.readdirSync(t.config.keysDir).filter((name) => !name.endsWith('.cert.pem'))) {
      expect(fs.statSync(path.join(t.config.keysDir, file)).mode & 0o077, file).to.equal(0);
    }
  });
});

describe('encryption at rest on PostgreSQL', function () {
  let t: TestRuntime | undefined;
  let dump: string;
  before(async function () {
    const server = await startPostgres();
    if (!server) this.skip();
    t = await openTestRuntime({ GATEWAY_DATABASE_URL: await server.createDatabase() });
    await ingestSecrets(t);
    // Plain SQL, as an operator's backup would be: bytea comes out as hex, so the needles are looked for in hex too.
    dump = execFileSync(path.join(server.binDir, 'pg_dump'), ['--no-owner', '--dbname', t.config.databaseUrl as string], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  });
  after(async () => t?.dispose());

  it('leaves no name, code, ID number, address or amount in a pg_dump of the database (text, UTF-16 or hex)', async function () {
    expect(dump).to.match(/COPY public\.records /);
    expect(dump.length).to.be.greaterThan(10_000);
    const haystack = Buffer.from(dump, 'utf8');
    for (const needle of NEEDLES) {
      for (const encoded of encodings(needle)) {
        expect(haystack.includes(encoded), `${needle} found in the dump`).to.equal(false);
        expect(dump.includes(encoded.toString('hex')), `${needle} found hex-encoded in the dump`).to.equal(false);
      }
    }
    await expectReadable(t as TestRuntime);
  });
});
