// Pins the portal's in-browser checks (gateway/crypto/webProofs.ts, WebCrypto only) against the gateway's own audit
// log: the checkpoint note it signs opens with its published verifier key, and with no other; every inclusion proof
// and every consistency proof the log makes verifies; an altered entry, root, proof or size does not.
import { expect } from 'chai';
import { fromBase64, leafHashOf, openCheckpoint, verifyConsistency, verifyInclusion } from '../../gateway/crypto/webProofs.js';
import { generateNoteKey } from '../../gateway/crypto/note.js';
import { startTestGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';

describe('the portal\'s proof checks (crypto/webProofs.ts)', function () {
  let gateway: TestGateway;
  let note: string;
  let size: number;

  before(async function () {
    gateway = await startTestGateway();
    for (let i = 0; i < 6; i += 1) await gateway.enrol('bank');
    note = (await gateway.runtime.audit.checkpointer.checkpointNow())!.note;
    size = await gateway.runtime.audit.log.size();
  });
  after(async function () {
    await gateway?.stop();
  });

  it('opens the gateway\'s checkpoint with its verifier key, giving its size and root', async function () {
    const opened = await openCheckpoint(note, gateway.runtime.audit.noteKey.verifierKey);
    expect(opened?.size).to.equal(size);
    expect(Buffer.from(opened!.rootHash).equals(await gateway.runtime.audit.log.rootAt(size))).to.equal(true);
  });

  it('refuses the checkpoint under another key of the same name, or with its text altered', async function () {
    const other = generateNoteKey(gateway.config.auditOrigin).verifierKey;
    expect(await openCheckpoint(note, other)).to.equal(undefined);
    expect(await openCheckpoint(note.replace(`\n${size}\n`, `\n${size + 1}\n`), gateway.runtime.audit.noteKey.verifierKey)).to.equal(undefined);
  });

  it('verifies every inclusion proof the log makes, and no proof for an altered entry', async function () {
    const root = await gateway.runtime.audit.log.rootAt(size);
    const entries = await gateway.runtime.audit.log.entries({ start: 0, end: size, limit: size });
    for (const entry of entries) {
      const proof = await gateway.runtime.audit.log.inclusionProof(entry.index, size);
      expect(await verifyInclusion(entry.index, size, await leafHashOf(entry.entry), proof, root), `entry ${entry.index}`).to.equal(true);
      const altered = Buffer.from(entry.entry);
      altered[altered.length - 2] ^= 1;
      expect(await verifyInclusion(entry.index, size, await leafHashOf(altered), proof, root)).to.equal(false);
      if (entry.index + 1 < size) expect(await verifyInclusion(entry.index + 1, size, await leafHashOf(entry.entry), proof, root)).to.equal(false);
    }
  });

  it('verifies every consistency proof the log makes, and refuses a wrong root', async function () {
    const second = await gateway.runtime.audit.log.rootAt(size);
    for (let first = 1; first <= size; first += 1) {
      const proof = await gateway.runtime.audit.log.consistencyProof(first, size);
      const root = await gateway.runtime.audit.log.rootAt(first);
      expect(await verifyConsistency(first, size, root, second, proof), `${first} → ${size}`).to.equal(true);
      expect(await verifyConsistency(first, size, fromBase64(Buffer.alloc(32, 7).toString('base64')), second, proof)).to.equal(false);
    }
  });
});
