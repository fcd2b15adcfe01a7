// Pins the audit log over its SQLite store: group-committed appends get consecutive indexes and are durable when
// acknowledged; roots and proofs served from stored hashes agree with an independent recomputation and verify.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createAuditLog } from '../../gateway/audit/log.js';
import type { AuditLog } from '../../gateway/audit/log.js';
import { treeHash } from '../../gateway/audit/merkle.js';
import { verifyConsistency, verifyInclusion } from '../../gateway/audit/verify.js';
import { leafHash } from '../../gateway/crypto/merkleHash.js';
import { openSqliteAuditStore } from '../../gateway/store/index.js';
import type { AuditStore } from '../../gateway/store/index.js';
import { memoryTree } from './memoryTree.js';

describe('audit log', function () {
  let dir: string;
  let store: AuditStore;
  let log: AuditLog;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-audit-'));
    store = openSqliteAuditStore({ file: path.join(dir, 'audit.sqlite') });
    log = createAuditLog(store);
  });
  afterEach(async function () {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const event = (n: number) => ({ kind: 'audit.read' as const, actor: `auditor-${n % 3}`, subject: n % 2 ? '91350100M000100Y43' : undefined, details: { n } });

  it('gives concurrent appends consecutive indexes, committed in groups', async function () {
    const appended = await Promise.all(Array.from({ length: 300 }, (_, n) => log.append(event(n))));
    expect(appended.map((entry) => entry.index)).to.deep.equal(Array.from({ length: 300 }, (_, n) => n));
    expect(await log.size()).to.equal(300);
    const stored = await log.entries({ start: 0, end: 300, limit: 1000 });
    stored.forEach((entry, n) => expect(leafHash(entry.entry).equals(appended[n]!.leafHash)).to.equal(true));
  });

  it('stores entries as canonical JSON with version, kind, time and actor', async function () {
    await log.append({ kind: 'ingest.batch', actor: 'source-1', details: { z: 1, a: 'x', batch_id: 'b' } });
    const [entry] = await log.entries({ start: 0, end: 1, limit: 1 });
    const text = Buffer.from(entry!.entry).toString('utf8');
    expect(text).to.match(/^\{"a":"x","actor":"source-1","at":"[^"]+","batch_id":"b","kind":"ingest.batch","v":1,"z":1\}$/);
  });

  it('refuses an entry it cannot represent exactly, and writes nothing', async function () {
    let refused: unknown;
    try {
      await log.append({ kind: 'audit.read', actor: 'a', details: { amount: 0.5 } });
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(Error);
    expect(await log.size()).to.equal(0);
  });

  it('serves roots and proofs that match an independent tree and verify, at every size', async function () {
    const reference = await memoryTree();
    for (let n = 0; n < 70; n++) {
      const appended = await log.append(event(n));
      await reference.append((await log.entries({ start: n, end: n + 1, limit: 1 }))[0]!.entry);
      expect(appended.treeSize).to.equal(n + 1);
    }
    for (let size = 1; size <= 70; size++) {
      const root = await log.rootAt(size);
      for (const index of [0, Math.floor(size / 2), size - 1]) {
        const leaf = leafHash((await log.entries({ start: index, end: index + 1, limit: 1 }))[0]!.entry);
        verifyInclusion(BigInt(index), BigInt(size), leaf, await log.inclusionProof(index, size), root);
      }
      for (const first of [1, Math.ceil(size / 3), size]) {
        verifyConsistency(BigInt(first), BigInt(size), await log.consistencyProof(first, size), await log.rootAt(first), root);
      }
    }
    expect((await log.rootAt(70)).equals((await treeHash(70, reference.read)))).to.equal(true);
    expect((await store.readHashes(reference.stored.map((_, index) => index))).every((hash, index) => hash.equals(reference.stored[index]!))).to.equal(true);
  });

  it('continues the same tree after a reopen, also when another process appended in between', async function () {
    await Promise.all(Array.from({ length: 10 }, (_, n) => log.append(event(n))));
    const other = openSqliteAuditStore({ file: path.join(dir, 'audit.sqlite') });
    const otherLog = createAuditLog(other);
    await otherLog.append(event(10));
    await other.close();
    await log.append(event(11));
    const reference = await memoryTree((await log.entries({ start: 0, end: 12, limit: 100 })).map((entry) => entry.entry));
    expect(await log.size()).to.equal(12);
    expect((await log.rootAt(12)).equals((await treeHash(12, reference.read)))).to.equal(true);
  });
});
