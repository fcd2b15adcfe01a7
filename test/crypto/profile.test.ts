// The crypto profiles: the 国密 primitives against published vectors, and a profile kept with the keys it made.
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createBlindIndexer, newDataKey, openRecord, recordAssociatedData, sealRecord, randomNonces } from '../../gateway/crypto/index.js';
import { sm4GcmOpen, sm4GcmSeal } from '../../gateway/crypto/gm.js';
import { CRYPTO_PROFILE_FILE, ensureSecrets, loadSecrets, SECRET_FILES } from '../../gateway/keys/index.js';
import { rejection } from '../support/rejection.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('国密 primitives', function () {
  it('hashes the GB/T 32905 examples with node:crypto\'s SM3', function () {
    expect(createHash('sm3').update('abc').digest('hex')).to.equal('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    expect(createHash('sm3').update('abcd'.repeat(16)).digest('hex')).to.equal('debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('encrypts the GB/T 32907 example block with node:crypto\'s SM4', function () {
    const key = hex('0123456789abcdeffedcba9876543210');
    const cipher = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
    expect(Buffer.concat([cipher.update(key), cipher.final()]).toString('hex')).to.equal('681edf34d206965e86b3e94f536e4246');
  });

  // RFC 8998, appendix A.1.
  const key = hex('0123456789ABCDEFFEDCBA9876543210');
  const nonce = hex('00001234567800000000ABCD');
  const aad = hex('FEEDFACEDEADBEEFFEEDFACEDEADBEEF ABADDAD2');
  const plaintext = hex(`AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
    EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA`);
  const ciphertext = hex(`17F399F08C67D5EE19D0DC9969C4BB7D 5FD46FD3756489069157B282BB200735
    D82710CA5C22F0CCFA7CBF93D496AC15 A56834CBCF98C397B4024A2691233B8D`);
  const tag = hex('83DE3541E4C2B58177E065A9BF7B62EC');

  it('seals and opens the RFC 8998 SM4-GCM example', function () {
    const sealed = sm4GcmSeal(key, nonce, aad, plaintext);
    expect(sealed.ciphertext.toString('hex')).to.equal(ciphertext.toString('hex'));
    expect(sealed.tag.toString('hex')).to.equal(tag.toString('hex'));
    expect(sm4GcmOpen(key, nonce, aad, ciphertext, tag).toString('hex')).to.equal(plaintext.toString('hex'));
  });

  it('refuses to open SM4-GCM with a bit changed in the ciphertext, tag, associated data, nonce or key', function () {
    const flipped = (bytes: Buffer, at = 0) => {
      const copy = Buffer.from(bytes);
      copy[at] = copy[at]! ^ 0x01;
      return copy;
    };
    expect(() => sm4GcmOpen(key, nonce, aad, flipped(ciphertext, 17), tag)).to.throw();
    expect(() => sm4GcmOpen(key, nonce, aad, ciphertext, flipped(tag, 15))).to.throw();
    expect(() => sm4GcmOpen(key, nonce, flipped(aad, 3), ciphertext, tag)).to.throw();
    expect(() => sm4GcmOpen(key, flipped(nonce, 11), aad, ciphertext, tag)).to.throw();
    expect(() => sm4GcmOpen(flipped(key), nonce, aad, ciphertext, tag)).to.throw();
    expect(() => sm4GcmOpen(key, nonce, aad, ciphertext, tag.subarray(0, 12))).to.throw(RangeError);
    expect(() => sm4GcmSeal(Buffer.alloc(32), nonce, aad, plaintext)).to.throw(RangeError);
  });

  it('seals a record under an SM4 data key that an AES data key of the same id cannot open', async function () {
    const gm = newDataKey(1, 'sm4-gcm');
    const aes = newDataKey(1, 'aes-256-gcm');
    expect(gm.secret).to.have.length(16);
    const sealed = sealRecord(gm, recordAssociatedData('water_accounts', 7), Buffer.from('{"a":1}'), randomNonces(1));
    expect(sealed[0]).to.equal(0x02);
    expect(openRecord(() => gm, recordAssociatedData('water_accounts', 7), sealed).toString()).to.equal('{"a":1}');
    expect(await rejection(Promise.resolve().then(() => openRecord(() => aes, recordAssociatedData('water_accounts', 7), sealed)))).to.have.property('code', 'decryption_failed');
    expect(await rejection(Promise.resolve().then(() => openRecord(() => gm, recordAssociatedData('water_accounts', 8), sealed)))).to.have.property('code', 'decryption_failed');
  });

  it('makes blind indexes with HMAC-SM3 under the gm profile and HMAC-SHA-256 otherwise', function () {
    const secret = Buffer.alloc(32, 7);
    const text = 'subject\u001fuscc\u001f91350100M000100Y43';
    expect(createBlindIndexer({ hash: 'sm3', secret }).subject({ idType: 'uscc', idNumber: '91350100M000100Y43' }))
      .to.deep.equal(createHmac('sm3', secret).update(text).digest().subarray(0, 16));
    expect(createBlindIndexer({ hash: 'sha256', secret }).subject({ idType: 'uscc', idNumber: '91350100M000100Y43' }))
      .to.deep.equal(createHmac('sha256', secret).update(text).digest().subarray(0, 16));
  });
});

describe('the crypto profile of a keys directory', function () {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-profile-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('makes a 16-byte SM4 key-encryption key for gm and records the profile beside it', function () {
    expect(ensureSecrets(dir, 'gm')).to.have.members([CRYPTO_PROFILE_FILE, SECRET_FILES.kek, SECRET_FILES.blindIndex]);
    expect(fs.readFileSync(path.join(dir, CRYPTO_PROFILE_FILE), 'utf8')).to.equal('gm\n');
    const secrets = loadSecrets(dir);
    expect(secrets.profile.name).to.equal('gm');
    expect(secrets.kek.aead).to.equal('sm4-gcm');
    expect(secrets.kek.secret).to.have.length(16);
    expect(secrets.blindIndex.hash).to.equal('sm3');
  });

  it('keeps the profile the keys were made for: another one is refused, naming the file', async function () {
    ensureSecrets(dir, 'gm');
    expect(() => ensureSecrets(dir, 'standard')).to.throw(/crypto-profile.*not standard/);
    expect(() => loadSecrets(dir, 'standard')).to.throw(new RegExp(`GATEWAY_CRYPTO_PROFILE is standard, but the keys in ${dir} are for the gm profile`));
    expect(ensureSecrets(dir)).to.deep.equal([]);
  });

  it('reads a keys directory from before profiles as standard, and will not make gm keys into it', function () {
    ensureSecrets(dir, 'standard');
    fs.rmSync(path.join(dir, CRYPTO_PROFILE_FILE));
    expect(loadSecrets(dir).profile.name).to.equal('standard');
    expect(() => ensureSecrets(dir, 'gm')).to.throw(/are for the standard crypto profile/);
  });

  it('refuses a key-encryption key of the wrong size for the profile, and a profile file it does not know', function () {
    ensureSecrets(dir, 'standard');
    fs.writeFileSync(path.join(dir, CRYPTO_PROFILE_FILE), 'gm\n');
    expect(() => loadSecrets(dir)).to.throw(/does not hold a 16-byte base64 key/);
    fs.writeFileSync(path.join(dir, CRYPTO_PROFILE_FILE), 'sm9\n');
    expect(() => loadSecrets(dir)).to.throw(/names no crypto profile/);
  });
});
