// Pins the gateway's signing keys: one ES256 key in a 0600 file, named by its RFC 7638 thumbprint, nothing private
// published; rotation keeps what the old key signed verifiable until that has expired, then drops the old key; and a
// running server picks up a rotation made by `gateway keys rotate` in another process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeProtectedHeader, errors } from 'jose';
import type { JWK } from 'jose';
import { ensureSigningKeys, openSigningKeys, rotateSigningKey, SIGNING_KEYS_FILE } from '../../gateway/keys/index.js';
import type { PublishedKey } from '../../gateway/keys/index.js';
import { packageRoot } from '../../gateway/paths.js';
import { createGatewaySigner, SIGNED_TYPES } from '../../gateway/signing/signer.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';

const CLI = path.join(packageRoot, 'dist/gateway/cli/main.js');
const DAY_MS = 86_400_000;
const LIFETIME_DAYS = 400;
const ISSUER = 'urn:credit-gateway:test';
/** A little over the interval at which a running server checks the key file for changes. */
const RELOAD_WAIT_MS = 1_200;

interface StoredKey {
  readonly kid: string;
  readonly created_at: string;
  readonly retired_at: string | null;
  readonly private_jwk: JWK;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function readKeyFile(keysDir: string): { keys: StoredKey[] } {
  return JSON.parse(fs.readFileSync(path.join(keysDir, SIGNING_KEYS_FILE), 'utf8')) as { keys: StoredKey[] };
}

function modeOf(file: string): string {
  return (fs.statSync(file).mode & 0o777).toString(8);
}

function kidOf(token: string): string | undefined {
  return decodeProtectedHeader(token).kid;
}

/** Verifies a gateway signature against a published key set; returns the kid it verified with. */
async function verifiedKid(token: string, keys: readonly PublishedKey[]): Promise<string | undefined> {
  const { protectedHeader } = await compactVerify(token, createLocalJWKSet({ keys: [...keys] }), { algorithms: ['ES256'] });
  return protectedHeader.kid;
}

function signerOn(keysDir: string) {
  return createGatewaySigner({ keys: openSigningKeys(keysDir, LIFETIME_DAYS), issuer: ISSUER, lifetimeDays: LIFETIME_DAYS });
}

/** Runs `node dist/gateway/cli/main.js ...args` on the given data and keys directories. */
function gatewayCli(dirs: { dataDir: string; keysDir: string }, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env['PATH'] ?? '', GATEWAY_DATA_DIR: dirs.dataDir, GATEWAY_KEYS_DIR: dirs.keysDir, LOG_LEVEL: 'silent' };
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function publishedKids(url: string): Promise<string[]> {
  const response = await fetch(`${url}/.well-known/jwks.json`);
  expect(response.status).to.equal(200);
  return ((await response.json()) as { keys: PublishedKey[] }).keys.map((key) => key.kid);
}

describe('gateway signing keys', function () {
  this.timeout(30_000);
  let root: string;
  let keysDir: (name: string) => string;

  before(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-signing-'));
    keysDir = (name) => path.join(root, name);
  });

  after(function () {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe('ensureSigningKeys', function () {
    let dir: string;

    before(async function () {
      dir = keysDir('fresh');
      expect(await ensureSigningKeys(dir)).to.equal(true);
    });

    it('creates signing-keys.json, mode 0600, holding one current ES256 (P-256) key', function () {
      expect(modeOf(path.join(dir, SIGNING_KEYS_FILE))).to.equal('600');
      const { keys } = readKeyFile(dir);
      expect(keys).to.have.length(1);
      expect(keys[0]?.retired_at).to.equal(null);
      expect(keys[0]?.private_jwk).to.include({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    });

    it('leaves an existing file alone', async function () {
      const before = fs.readFileSync(path.join(dir, SIGNING_KEYS_FILE), 'utf8');
      expect(await ensureSigningKeys(dir)).to.equal(false);
      expect(fs.readFileSync(path.join(dir, SIGNING_KEYS_FILE), 'utf8')).to.equal(before);
    });

    it('names the key by the RFC 7638 thumbprint of the JWK it publishes', async function () {
      const [published] = openSigningKeys(dir, LIFETIME_DAYS).published();
      expect(published).to.include({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(published?.kid).to.equal(await calculateJwkThumbprint(published as JWK, 'sha256'));
      expect(published?.kid).to.equal(readKeyFile(dir).keys[0]?.kid);
    });

    it('publishes no private member', function () {
      const published = openSigningKeys(dir, LIFETIME_DAYS).published();
      const privateD = String(readKeyFile(dir).keys[0]?.private_jwk.d);
      for (const key of published) expect(key).to.not.have.property('d');
      expect(JSON.stringify(published)).to.not.include(privateD);
    });
  });

  describe('rotateSigningKey', function () {
    let dir: string;
    let rotatedAt: Date;
    let oldToken: string;
    let rotation: { current: string; retired: string };

    before(async function () {
      dir = keysDir('rotated');
      await ensureSigningKeys(dir);
      oldToken = await signerOn(dir).sign(SIGNED_TYPES.ingestReceipt, 'source-1', { outcome: 'stored' });
      rotatedAt = new Date();
      rotation = await rotateSigningKey(dir, rotatedAt);
    });

    it('makes a new key current and retires the one that signed before', function () {
      expect(rotation.retired).to.equal(kidOf(oldToken));
      expect(rotation.current).to.not.equal(rotation.retired);
      const { keys } = readKeyFile(dir);
      expect(keys.map((key) => [key.kid, key.retired_at])).to.deep.equal([[rotation.current, null], [rotation.retired, rotatedAt.toISOString()]]);
    });

    it('keeps the key file 0600', function () {
      expect(modeOf(path.join(dir, SIGNING_KEYS_FILE))).to.equal('600');
    });

    it('publishes both keys, the new one first', function () {
      const kids = openSigningKeys(dir, LIFETIME_DAYS).published().map((key) => key.kid);
      expect(kids).to.deep.equal([rotation.current, rotation.retired]);
    });

    it('keeps what the old key signed verifiable with the new JWKS', async function () {
      expect(await verifiedKid(oldToken, openSigningKeys(dir, LIFETIME_DAYS).published())).to.equal(rotation.retired);
    });

    it('signs with the new key from then on', async function () {
      const token = await signerOn(dir).sign(SIGNED_TYPES.ingestReceipt, 'source-1', { outcome: 'stored' });
      expect(await verifiedKid(token, openSigningKeys(dir, LIFETIME_DAYS).published())).to.equal(rotation.current);
    });

    it('publishes the retired key for the signature lifetime after it was retired, then no more', async function () {
      const keys = openSigningKeys(dir, LIFETIME_DAYS);
      const expiry = rotatedAt.getTime() + LIFETIME_DAYS * DAY_MS;
      expect(keys.published(new Date(expiry - 1)).map((key) => key.kid)).to.deep.equal([rotation.current, rotation.retired]);
      const later = keys.published(new Date(expiry + DAY_MS));
      expect(later.map((key) => key.kid)).to.deep.equal([rotation.current]);
      let failure: unknown;
      try {
        await verifiedKid(oldToken, later);
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(errors.JWKSNoMatchingKey);
    });

    it('keeps the first retirement date of a key when rotating again', async function () {
      const again = await rotateSigningKey(dir, new Date(rotatedAt.getTime() + DAY_MS));
      expect(again.retired).to.equal(rotation.current);
      const { keys } = readKeyFile(dir);
      expect(keys.map((key) => key.kid)).to.deep.equal([again.current, rotation.current, rotation.retired]);
      expect(keys.filter((key) => key.retired_at === null)).to.have.length(1);
      expect(keys[2]?.retired_at).to.equal(rotatedAt.toISOString());
    });
  });

  describe('a running server, when `gateway keys rotate` runs in another process', function () {
    let gateway: TestGateway;
    let source: EnrolledParticipant;
    let kidsBefore: string[];
    let rotated: { current_kid: string; retired_kid: string };

    before(async function () {
      gateway = await startTestGateway();
      source = await gateway.enrol('source');
      kidsBefore = await publishedKids(gateway.url);
      const run = await gatewayCli(gateway.config, ['keys', 'rotate', '--json']);
      expect(run.code, run.stderr).to.equal(0);
      rotated = JSON.parse(run.stdout) as typeof rotated;
      await sleep(RELOAD_WAIT_MS);
    });

    after(async function () {
      await gateway?.stop();
    });

    it('publishes the new key first within a little over a second, and still the old one', async function () {
      expect(kidsBefore).to.have.length(1);
      expect(rotated.retired_kid).to.equal(kidsBefore[0]);
      expect(await publishedKids(gateway.url)).to.deep.equal([rotated.current_kid, rotated.retired_kid]);
    });

    it('signs ingest receipts with the new key', async function () {
      const csv = '企业名称,统一社会信用代码,欠缴所属期,欠缴金额\n济南明德机械有限公司,91350100M000100Y43,2024-11,1200.00\n';
      const result = await gateway.client(source).ingest('medical_insurance_arrears', csv, { format: 'csv' });
      expect(result.verified.kid).to.equal(rotated.current_kid);
      expect(kidOf(result.receipt)).to.equal(rotated.current_kid);
    });
  });
});
