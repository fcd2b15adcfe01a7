// The uplink's configuration and the platform's keys: all three variables or none, an http(s) URL without
// credentials, and key files the gateway can use — a public encryption key (never the platform's private one) and
// public receipt keys, as a JWK or a JWKS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import type { UplinkConfig } from '../../gateway/config/index.js';
import { loadConfig } from '../../gateway/config/index.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { openPlatform, RECEIPT_TYPE } from '../../gateway/uplink/index.js';
import { rejection } from '../support/rejection.js';

const HOME = { GATEWAY_DATA_DIR: '/tmp/uplink-config/data', GATEWAY_KEYS_DIR: '/tmp/uplink-config/keys' };

function configuration(env: Record<string, string>): UplinkConfig | undefined {
  return loadConfig({ ...HOME, ...env }, '/srv/gateway').uplink;
}

function refusal(env: Record<string, string>): string {
  try {
    configuration(env);
  } catch (error) {
    expect(error).to.be.instanceOf(GatewayError);
    expect((error as GatewayError).code).to.equal('invalid_configuration');
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('uplink configuration', function () {
  it('is off without GATEWAY_UPLINK_URL, and takes the keys relative to the working directory with the delivery defaults', function () {
    expect(configuration({})).to.equal(undefined);
    expect(configuration({ GATEWAY_UPLINK_URL: 'https://platform.example/v1/manifests', GATEWAY_UPLINK_KEY: 'keys/enc.jwk', GATEWAY_UPLINK_RECEIPT_KEY: '/etc/receipts.jwks' }))
      .to.deep.equal({
        url: 'https://platform.example/v1/manifests', encryptionKeyFile: '/srv/gateway/keys/enc.jwk', receiptKeyFile: '/etc/receipts.jwks',
        retryHorizonMs: 7 * 86_400_000, baseBackoffMs: 1000, maxBackoffMs: 3_600_000, timeoutMs: 30_000, pollMs: 1000, concurrency: 4,
      });
  });

  it('refuses keys without a URL, a URL without both keys, and a URL that is not http(s) or carries credentials', function () {
    expect(refusal({ GATEWAY_UPLINK_KEY: 'enc.jwk' })).to.match(/need GATEWAY_UPLINK_URL/);
    expect(refusal({ GATEWAY_UPLINK_URL: 'https://platform.example/', GATEWAY_UPLINK_KEY: 'enc.jwk' })).to.match(/GATEWAY_UPLINK_RECEIPT_KEY/);
    const keys = { GATEWAY_UPLINK_KEY: 'enc.jwk', GATEWAY_UPLINK_RECEIPT_KEY: 'receipt.jwk' };
    expect(refusal({ GATEWAY_UPLINK_URL: 'ftp://platform.example/', ...keys })).to.match(/http\(s\)/);
    expect(refusal({ GATEWAY_UPLINK_URL: 'https://user:secret@platform.example/', ...keys })).to.match(/without credentials/);
    expect(refusal({ GATEWAY_UPLINK_URL: 'https://platform.example/', GATEWAY_UPLINK_TIMEOUT_MS: '5', ...keys })).to.match(/GATEWAY_UPLINK_TIMEOUT_MS/);
  });
});

describe('uplink platform keys', function () {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-uplink-keys-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function platformWith(encryptionJwk: unknown, receiptKeys: unknown) {
    const encryptionKeyFile = path.join(dir, 'enc.json');
    const receiptKeyFile = path.join(dir, 'receipt.json');
    fs.writeFileSync(encryptionKeyFile, JSON.stringify(encryptionJwk));
    fs.writeFileSync(receiptKeyFile, JSON.stringify(receiptKeys));
    return openPlatform({
      url: 'https://platform.example/', encryptionKeyFile, receiptKeyFile, retryHorizonMs: 1, baseBackoffMs: 1, maxBackoffMs: 1, timeoutMs: 100, pollMs: 10, concurrency: 1,
    });
  }

  it('encrypts to an RSA key with RSA-OAEP-256 and takes a single receipt JWK', async function () {
    const rsa = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const receipt = await generateKeyPair('ES256', { extractable: true });
    const platform = await platformWith(await exportJWK(rsa.publicKey), await exportJWK(receipt.publicKey));
    const sealed = await platform.seal('a.b.c');
    const header = JSON.parse(Buffer.from(sealed.split('.')[0] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(header).to.deep.equal({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' });
  });

  it('refuses the platform\'s private key, a key for signing, and receipt keys that are private or absent', async function () {
    const ec = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
    const receipt = await generateKeyPair('ES256', { extractable: true });
    const publicReceipt = await exportJWK(receipt.publicKey);
    const cases: [unknown, unknown, RegExp][] = [
      [await exportJWK(ec.privateKey), publicReceipt, /public key, not its private key/],
      [{ ...(await exportJWK(ec.publicKey)), use: 'sig' }, publicReceipt, /not "enc"/],
      [await exportJWK(ec.publicKey), { keys: [await exportJWK(receipt.privateKey)] }, /must hold public JWKs/],
      [await exportJWK(ec.publicKey), { keys: [] }, /must hold public JWKs/],
    ];
    for (const [encryption, receipts, message] of cases) {
      const error = await rejection(platformWith(encryption, receipts));
      expect(error).to.be.instanceOf(GatewayError);
      expect(error.message).to.match(message);
    }
  });

  it('takes a receipt only when it is typed, signed by a receipt key, and names the manifest and its content hash', async function () {
    const ec = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
    const receipt = await generateKeyPair('ES256', { extractable: true });
    const platform = await platformWith(await exportJWK(ec.publicKey), { keys: [await exportJWK(receipt.publicKey)] });
    const expected = { manifestId: 'm-1', contentSha256: 'a'.repeat(64) };
    const claims = { manifest_id: 'm-1', content_sha256: 'a'.repeat(64), received_at: '2026-12-04T03:00:00.000Z' };
    const sign = (payload: object, typ = RECEIPT_TYPE) =>
      new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', typ }).sign(receipt.privateKey);
    expect(await platform.checkReceipt(await sign(claims), expected)).to.deep.equal(claims);
    const refused: [Promise<string>, RegExp][] = [
      [sign(claims, 'JWT'), /typ is JWT/],
      [sign({ ...claims, manifest_id: 'm-2' }), /another manifest/],
      [sign({ ...claims, content_sha256: 'b'.repeat(64) }), /another content hash/],
      [sign({ ...claims, received_at: 'yesterday' }), /RFC 3339 received_at/],
      [Promise.resolve('not.a.receipt'), /does not verify \(malformed\)/],
    ];
    for (const [token, message] of refused) {
      const error = await rejection(platform.checkReceipt(await token, expected));
      expect(error.name).to.equal('ReceiptError');
      expect(error.message).to.match(message);
    }
  });
});
