// Pins "keys are never silently replaced": once a data directory holds anything, a key file that is missing or is not
// the one the data directory was used with stops the gateway (openRuntime, `gateway init`, `gateway serve`) with a
// message naming the file and the remedy, no key is created in its place and nothing is signed; key files others can
// read and a keys directory others can write are refused unless overridden; data files are 0600 in a 0700 directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { createLogger } from '../../gateway/observability/index.js';
import { KEY_FINGERPRINTS_FILE, openSigningKeys, recordSigningKids, rotateSigningKey } from '../../gateway/keys/index.js';
import { AUDIT_DATABASE_FILE, DATABASE_FILE, initialise, openRuntime } from '../../gateway/runtime/index.js';
import { openSqliteAuditStore } from '../../gateway/store/index.js';
import { runCli } from '../support/cli.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

/** Every key file the data depends on, and what a replaced one is refused as. */
const KEY_FILES: ReadonlyArray<{ file: string; replaced: string }> = [
  { file: 'blind-index.key', replaced: 'is not the blind-index key this data directory' },
  { file: 'data-kek.key', replaced: 'is not the data key-encryption key this data directory' },
  { file: 'audit-note-key.json', replaced: 'is not the audit checkpoint key this data directory' },
  { file: 'signing-keys.json', replaced: 'is not the signing key set' },
  { file: 'ca.cert.pem', replaced: 'is not the platform CA this data directory' },
];

function syncRefusal(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

async function asyncRefusal(action: () => Promise<unknown>): Promise<GatewayError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** What the audit log holds: a refused start must add no entry and sign no checkpoint. */
async function auditState(config: GatewayConfig): Promise<{ size: number; checkpoints: number }> {
  const store = openSqliteAuditStore({ file: path.join(config.dataDir, AUDIT_DATABASE_FILE) });
  try {
    return { size: await store.size(), checkpoints: (await store.checkpoints()).length };
  } finally {
    await store.close();
  }
}

function modeOf(file: string): string {
  return (fs.statSync(file).mode & 0o777).toString(8);
}

describe('keys the gateway starts with (runtime/keyCheck.ts)', function () {
  this.timeout(60_000);
  let dir: string;
  let config: GatewayConfig;
  /** Another deployment's keys, for "replaced" cases. */
  let otherKeysDir: string;
  let used: { size: number; checkpoints: number };

  before(async function () {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-other-keys-'));
    await initialise(testConfig(other));
    otherKeysDir = path.join(other, 'keys');
  });

  after(function () {
    fs.rmSync(path.dirname(otherKeysDir), { recursive: true, force: true });
  });

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-keycheck-'));
    config = testConfig(dir, { GATEWAY_INGEST_WORKERS: '1' });
    await prepareTestKeys(config);
    // A used data directory: an audit entry and a signed checkpoint.
    const runtime = (await openRuntime(config));
    await runtime.audit.log.append({ kind: 'signing_key.rotated', actor: 'operator', details: { note: 'fixture' } });
    await runtime.close();
    used = (await auditState(config));
    expect(used.checkpoints).to.equal(1);
  });

  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records a fingerprint of each key in the data directory at first use, 0600, and no secret in it', function () {
    const file = path.join(config.dataDir, KEY_FINGERPRINTS_FILE);
    expect(modeOf(file)).to.equal('600');
    const recorded = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: Record<string, unknown> };
    expect(Object.keys(recorded.keys).sort()).to.deep.equal(['audit-note-key.json', 'blind-index.key', 'ca.cert.pem', 'data-kek.key', 'signing-keys.json']);
    const text = fs.readFileSync(file, 'utf8');
    for (const secret of ['blind-index.key', 'data-kek.key']) {
      expect(text).to.not.include(fs.readFileSync(path.join(config.keysDir, secret), 'utf8').trim());
    }
  });

  for (const { file } of [...KEY_FILES, { file: 'ca.key.pem' }]) {
    it(`refuses to start without ${file}, creates none in its place (init neither) and signs nothing`, async function () {
      fs.rmSync(path.join(config.keysDir, file));
      const error = await asyncRefusal(() => openRuntime(config));
      expect(error.code).to.equal('key_material_missing');
      expect(error.message).to.include(path.join(config.keysDir, file)).and.include('Restore it from your backup');
      const again = await asyncRefusal(() => initialise(config));
      expect(again.code).to.equal('key_material_missing');
      expect(fs.existsSync(path.join(config.keysDir, file)), `${file} recreated`).to.equal(false);
      expect(await auditState(config)).to.deep.equal(used);
    });

  }

  for (const { file, replaced } of KEY_FILES) {
    it(`refuses to start with another deployment's ${file} and signs nothing`, async function () {
      fs.copyFileSync(path.join(otherKeysDir, file), path.join(config.keysDir, file));
      const error = await asyncRefusal(() => openRuntime(config));
      expect(error.code).to.equal('key_mismatch');
      expect(error.message).to.include(path.join(config.keysDir, file)).and.include(replaced).and.include('backup');
      expect(await auditState(config)).to.deep.equal(used);
    });
  }

  it('issues nothing with another deployment\'s ca.key.pem, which a serving process never reads', async function () {
    fs.copyFileSync(path.join(otherKeysDir, 'ca.key.pem'), path.join(config.keysDir, 'ca.key.pem'));
    const runtime = (await openRuntime(config));
    try {
      const error = await asyncRefusal(() => runtime.participants.add({
        participantId: 'bank-after-swap', role: 'bank', name: 'Bank', publicKeyPem: generateRsaKeyPair().publicKeyPem, certificateDays: 30,
      }));
      expect(error.code).to.equal('key_mismatch');
      expect(error.message).to.include(`${path.join(config.keysDir, 'ca.key.pem')} is not the private key of`);
      expect(await runtime.store.getParticipant('bank-after-swap')).to.equal(undefined);
    } finally {
      await runtime.close();
    }
  });

  it('refuses a replaced platform CA (certificate and key together) by its recorded fingerprint', async function () {
    for (const file of ['ca.cert.pem', 'ca.key.pem']) fs.copyFileSync(path.join(otherKeysDir, file), path.join(config.keysDir, file));
    const error = await asyncRefusal(() => openRuntime(config));
    expect(error.code).to.equal('key_mismatch');
    expect(error.message).to.include(path.join(config.keysDir, 'ca.cert.pem')).and.include('is not the platform CA');
  });

  it('accepts a rotated signing key set, which keeps every recorded key, and records the new key', async function () {
    const recordedKids = () => (JSON.parse(fs.readFileSync(path.join(config.dataDir, KEY_FINGERPRINTS_FILE), 'utf8')) as { keys: Record<string, string[]> }).keys['signing-keys.json'];
    const first = await rotateSigningKey(config.keysDir);
    recordSigningKids(config.dataDir, [first.current]);
    expect(recordedKids()).to.include.members([first.current, first.retired]);
    // As if `gateway keys rotate` died before recording the new kid: the next start records it.
    const second = await rotateSigningKey(config.keysDir);
    await (await openRuntime(config)).close();
    expect(recordedKids()).to.include.members([first.retired, first.current, second.current]);
  });

  it('refuses to sign with a signing key file replaced while running', async function () {
    const keys = openSigningKeys(config.keysDir, 400);
    const before = keys.current().kid;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    fs.copyFileSync(path.join(otherKeysDir, 'signing-keys.json'), path.join(config.keysDir, 'signing-keys.json'));
    const error = syncRefusal(() => keys.current());
    expect(error.code).to.equal('key_mismatch');
    expect(error.message).to.include(before);
  });

  it('refuses private key files others can read, and a keys directory others can write, naming the chmod', async function () {
    for (const file of ['blind-index.key', 'data-kek.key', 'ca.key.pem', 'signing-keys.json', 'audit-note-key.json']) {
      const full = path.join(config.keysDir, file);
      fs.chmodSync(full, 0o640);
      const error = await asyncRefusal(() => openRuntime(config));
      expect(error.code, file).to.equal('key_permissions_unsafe');
      expect(error.message).to.include(`${full} has mode 640`).and.include(`chmod 600 ${full}`).and.include('GATEWAY_ALLOW_UNSAFE_KEY_PERMISSIONS=1');
      fs.chmodSync(full, 0o600);
    }
    fs.chmodSync(config.keysDir, 0o777);
    const error = await asyncRefusal(() => openRuntime(config));
    expect(error.code).to.equal('key_permissions_unsafe');
    expect(error.message).to.include(`chmod 700 ${config.keysDir}`);
    expect(await auditState(config)).to.deep.equal(used);
  });

  it('starts with unsafe modes when GATEWAY_ALLOW_UNSAFE_KEY_PERMISSIONS=1, warning about each', async function () {
    fs.chmodSync(path.join(config.keysDir, 'blind-index.key'), 0o644);
    const warnings: string[] = [];
    const logger = createLogger('warn', new Writable({ write: (chunk: Buffer, _encoding, done) => { warnings.push(chunk.toString('utf8')); done(); } }));
    const runtime = (await openRuntime(testConfig(dir, { GATEWAY_INGEST_WORKERS: '1', GATEWAY_ALLOW_UNSAFE_KEY_PERMISSIONS: '1' }), { logger }));
    await runtime.close();
    expect(warnings.join('\n')).to.include(path.join(config.keysDir, 'blind-index.key')).and.include('mode 644');
  });

  it('creates the data directory 0700 and its files 0600', function () {
    expect(modeOf(config.dataDir)).to.equal('700');
    for (const file of [DATABASE_FILE, AUDIT_DATABASE_FILE, `${AUDIT_DATABASE_FILE}-wal`, KEY_FINGERPRINTS_FILE]) {
      if (fs.existsSync(path.join(config.dataDir, file))) expect(modeOf(path.join(config.dataDir, file)), file).to.equal('600');
    }
    expect(modeOf(path.join(config.dataDir, DATABASE_FILE))).to.equal('600');
  });

  it('on a fresh data directory, says to run `gateway init` when keys are missing; init creates them', async function () {
    const fresh = testConfig(fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-fresh-')));
    try {
      const error = await asyncRefusal(() => openRuntime(fresh));
      expect(error.code).to.equal('key_material_missing');
      expect(error.message).to.include('run `gateway init`');
      const created = await initialise(fresh);
      expect(created).to.include.members(['blind-index.key', 'data-kek.key', 'audit-note-key.json', 'signing-keys.json']);
      await (await openRuntime(fresh)).close();
    } finally {
      fs.rmSync(path.dirname(fresh.dataDir), { recursive: true, force: true });
    }
  });

  it('`gateway serve` on a used data directory without blind-index.key exits 1 with the message, and never listens', async function () {
    fs.rmSync(path.join(config.keysDir, 'blind-index.key'));
    const run = await runCli(dir, ['serve'], { PORT: '0', GATEWAY_DEMO_ENTERPRISES: '0' });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include('error (key_material_missing)').and.include(path.join(config.keysDir, 'blind-index.key')).and.include('Restore it from your backup');
    expect(run.stderr).to.not.include('listening');
    expect(fs.existsSync(path.join(config.keysDir, 'blind-index.key'))).to.equal(false);
    expect(await auditState(config)).to.deep.equal(used);
  });
});
