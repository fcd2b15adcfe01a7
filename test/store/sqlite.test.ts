// The SQLite engine passes the storage contracts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { migrationsDir } from '../../gateway/paths.js';
import { openSqliteAuditStore, openSqliteStore } from '../../gateway/store/index.js';
import { applyMigrations, connect } from '../../gateway/store/sqlite/sqliteStore.js';
import { auditStoreContract, type AuditStoreFactory } from './auditContract.js';
import { consentStoreContract } from './consentContract.js';
import { crashContract } from './crashContract.js';
import { storeContract, type StoreFactory } from './contract.js';
import { DATASET, batchMetadata, gate, sealedRecords, settle } from './fixtures.js';
import { identityStoreContract } from './identityContract.js';
import { monitorStoreContract } from './monitorContract.js';
import { reportStoreContract } from './reportContract.js';
import { scorecardStoreContract } from './scorecardContract.js';
import { uplinkStoreContract } from './uplinkContract.js';
import { retentionStoreContract } from './retentionContract.js';
import { factsStoreContract } from './factsContract.js';

let dir = '';
const sqlite: StoreFactory = {
  async create() {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-store-'));
    return openSqliteStore({ file: path.join(dir, 'gateway.sqlite') });
  },
  reopen: async () => openSqliteStore({ file: path.join(dir, 'gateway.sqlite') }),
  dispose: async () => fs.rmSync(dir, { recursive: true, force: true }),
};
storeContract('sqlite', sqlite);
identityStoreContract('sqlite', sqlite);
consentStoreContract('sqlite', sqlite);
monitorStoreContract('sqlite', sqlite);
reportStoreContract('sqlite', sqlite);
scorecardStoreContract('sqlite', sqlite);
uplinkStoreContract('sqlite', sqlite);
retentionStoreContract('sqlite', sqlite);
factsStoreContract('sqlite', sqlite);

let auditDir = '';
const sqliteAudit: AuditStoreFactory = {
  async create() {
    auditDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-audit-'));
    return openSqliteAuditStore({ file: path.join(auditDir, 'audit.sqlite') });
  },
  reopen: async () => openSqliteAuditStore({ file: path.join(auditDir, 'audit.sqlite') }),
  dispose: async () => fs.rmSync(auditDir, { recursive: true, force: true }),
};
auditStoreContract('sqlite', sqliteAudit);

/** The staging files of batches (gateway.sqlite.batch-<n>) in the data directory. */
const stagingFiles = () => fs.readdirSync(dir).filter((name) => name.startsWith('gateway.sqlite.batch-'));

crashContract('sqlite', sqlite, new URL('./sqliteOpener.js', import.meta.url), () => path.join(dir, 'gateway.sqlite'), {
  // A store opened by another process while the batch is live leaves its staging file alone; after the crash, the
  // next open removes it.
  async whileBatchOpen() {
    await (await sqlite.reopen()).close();
    expect(stagingFiles()).to.have.length(1);
  },
  afterReopen() {
    expect(stagingFiles()).to.deep.equal([]);
  },
});

describe('sqlite: a batch and the write lock', function () {
  afterEach(async () => sqlite.dispose());

  it('stages its rows outside gateway.sqlite, and removes the staging file when it commits or aborts', async function () {
    const store = await sqlite.create();
    try {
      const committed = await store.beginBatch(DATASET);
      await committed.add(sealedRecords('b1', ['k1']));
      const aborted = await store.beginBatch(DATASET);
      await aborted.add(sealedRecords('b2', ['k1']));
      expect(stagingFiles()).to.have.length(2);
      await committed.commit(batchMetadata('b1', 'h1', '2026-01-31', 1));
      await aborted.abort();
      expect(stagingFiles()).to.deep.equal([]);
      expect(await store.countRecords()).to.equal(1);
    } finally {
      await store.close();
    }
  });

  it('keeps an open batch going when another store opens the database in the same process', async function () {
    const store = await sqlite.create();
    try {
      const writer = await store.beginBatch(DATASET);
      await writer.add(sealedRecords('b1', ['k1', 'k2']));
      await (await sqlite.reopen()).close();
      expect((await writer.commit(batchMetadata('b1', 'h1', '2026-01-31', 2))).outcome).to.equal('stored');
      expect(await store.countRecords()).to.equal(2);
    } finally {
      await store.close();
    }
  });

  it('makes a write wait on a timer while a commit holds the lock, never blocking the event loop, and serves it after the commit', async function () {
    const store = await sqlite.create();
    try {
      const writer = await store.beginBatch(DATASET);
      await writer.add(sealedRecords('b1', ['k1']));
      const held = gate();
      const committing = writer.commit(batchMetadata('b1', 'h1', '2026-01-31', 1), () => held.opened);
      await settle();
      const waited = Date.now();
      const remembering = store.rememberRequests([{ participantId: 'bank-1', jti: 'j1', expiresAt: 5000 }], 1000);
      await settle();
      // SQLite's busy handler would have held the event loop, and this timer, for busy_timeout (30 s).
      expect(Date.now() - waited).to.be.below(1000);
      held.open();
      expect((await committing).outcome).to.equal('stored');
      expect(await remembering).to.deep.equal([true]);
    } finally {
      await store.close();
    }
  });
});

describe('sqlite migration 0011 (reports and objections)', function () {
  it('keeps the outbox events written before it (by 0001-0010), and lets new ones have no subscription', async function () {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-migration-'));
    try {
      const before = path.join(root, 'migrations-0005');
      fs.mkdirSync(before);
      for (const file of fs.readdirSync(migrationsDir).filter((name) => name < '0011')) fs.copyFileSync(path.join(migrationsDir, file), path.join(before, file));
      const file = path.join(root, 'gateway.sqlite');
      const db = connect(file);
      applyMigrations(db, before);
      db.prepare(`INSERT INTO outbox (event_id, bank_id, type, subscription_id, content, created_at, state, retry_from, next_attempt_at)
        VALUES ('e-old', 'bank-1', 'alert', 's-1', '{}', '2026-11-01T00:00:00.000Z', 'pending', 1, 1)`).run();
      db.close();
      const store = openSqliteStore({ file });
      try {
        expect(await store.getEvent('e-old')).to.include({ subscriptionId: 's-1', type: 'alert', state: 'pending' });
        await store.addObjection({
          objectionId: 'o-1', enterpriseId: 'e', uscc: '91350100M000100Y43', subjectIndex: Buffer.alloc(16), datasets: ['water_accounts'], target: '{}',
          reason: 'r', evidence: '[]', raisedAt: '2026-11-01T00:00:00.000Z', dueAt: '2026-11-21T00:00:00.000Z', disputedSince: '2026-11-01T00:00:00.000Z', auditIndex: 1,
        });
        await store.resolveObjection('o-1', { state: 'corrected', by: 's', at: '2026-11-02T00:00:00.000Z', resolution: '{}', auditIndex: 2 });
        await store.notifyCorrection('o-1', [{ eventId: 'e-new', bankId: 'bank-1', type: 'answer.corrected', subscriptionId: undefined, content: '{}', createdAt: '2026-11-02T00:00:00.000Z' }],
          { at: '2026-11-02T00:00:00.000Z', details: '{}', auditIndex: 3 });
        expect((await store.eventsAfter('bank-1', 0, 10)).map((event) => [event.eventId, event.subscriptionId])).to.deep.equal([['e-old', 's-1'], ['e-new', undefined]]);
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
