// The retention job on SQLite with a clock it is given: an old batch's records are purged after their audit entry, a
// recent batch's stay readable, a consent and every earlier audit entry stay; the data key left without records is
// destroyed and the current one kept (and one a webhook secret is sealed under); a second run changes nothing; a dry
// run changes nothing at all.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createAuditLog, type AuditLog } from '../../gateway/audit/index.js';
import { openRecord, randomNonces, recordAssociatedData, sealRecord } from '../../gateway/crypto/index.js';
import { sealWebhookSecret } from '../../gateway/identity/webhooks.js';
import { openDataKeyring, type DataKeyring } from '../../gateway/keys/dataKeys.js';
import { packageRoot } from '../../gateway/paths.js';
import { createRetentionJob, loadRetentionPolicy, retentionCutoff } from '../../gateway/retention/index.js';
import { openSqliteAuditStore, openSqliteStore, type AuditStore, type Store } from '../../gateway/store/index.js';
import { batchMetadata, blindIndex, consent, DATASET, participant, webhook } from '../store/fixtures.js';

const NOW = new Date('2026-12-04T02:00:00.000Z');
const policy = loadRetentionPolicy(path.join(packageRoot, 'policies', 'retention.json'));

/** Commits one batch of records, each sealed under the keyring's current key as "secret value <key>". */
async function commitSealed(store: Store, keyring: DataKeyring, batchId: string, asOf: string, keys: readonly string[]): Promise<void> {
  const writer = await store.beginBatch(DATASET);
  const nonces = randomNonces(keys.length);
  await writer.add(keys.map((key, offset) => ({
    rowNumber: offset + 1, keyIndex: blindIndex(key), subjectIndex: blindIndex(`s-${batchId}`),
    sealed: sealRecord(keyring.current(), recordAssociatedData(DATASET, writer.recordId(offset + 1)), Buffer.from(`secret value ${key}`),
      nonces.subarray(offset * 12, (offset + 1) * 12)),
  })));
  await writer.commit(batchMetadata(batchId, randomBytes(8).toString('hex'), asOf, keys.length));
}

async function kinds(audit: AuditLog): Promise<string[]> {
  const entries = await audit.entries({ start: 0, end: await audit.size(), limit: 1000 });
  return entries.map((stored) => (JSON.parse(Buffer.from(stored.entry).toString('utf8')) as { kind: string }).kind);
}

describe('retention job', () => {
  let dir = '';
  let store: Store;
  let auditStore: AuditStore;
  let audit: AuditLog;
  let keyring: DataKeyring;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-retention-'));
    store = openSqliteStore({ file: path.join(dir, 'gateway.sqlite') });
    auditStore = openSqliteAuditStore({ file: path.join(dir, 'audit.sqlite') });
    audit = createAuditLog(auditStore, () => NOW);
    keyring = await openDataKeyring(store, { aead: 'aes-256-gcm', secret: randomBytes(32) }, () => NOW);
    // Key 1 seals a batch of 2019, key 2 (current after the rotation) one of 2026.
    await commitSealed(store, keyring, 'water-2019', '2019-06-30', ['k1', 'k2']);
    await keyring.rotate();
    await commitSealed(store, keyring, 'water-2026', '2026-06-30', ['k1']);
    await store.addConsent(consent('consent-1'), false);
    await audit.append({ kind: 'consent.granted', actor: 'ent-1', consentId: 'consent-1', details: {} });
  });
  afterEach(async () => {
    await store.close();
    await auditStore.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('counts each dataset\'s cut-off from today in Asia/Shanghai', () => {
    expect(retentionCutoff('2026-12-04', 5)).to.equal('2021-12-04');
    expect(retentionCutoff('2028-02-29', 10)).to.equal('2018-02-28');
  });

  it('purges the old batch after its audit entry, destroys its key, and keeps the rest; a second run changes nothing', async () => {
    const job = createRetentionJob({ store, audit, policy, actor: 'gateway', now: () => NOW });
    const run = await job.run();
    expect(run.today).to.equal('2026-12-04');
    expect(run.cutoffs[DATASET]).to.equal('2021-12-04');
    expect(run.purged.map((batch) => [batch.batchId, batch.records])).to.deep.equal([['water-2019', 2]]);
    expect(run.destroyedKeys.map((key) => key.keyId)).to.deep.equal([1]);

    expect(await store.countRecords(DATASET)).to.equal(1);
    expect(await store.recordsBySubject(DATASET, blindIndex('s-water-2019'), { includeHistory: true })).to.deep.equal([]);
    expect(await store.findBatchById('water-2019')).to.include({ asOf: '2019-06-30' });
    expect((await store.listDataKeys()).map((key) => key.keyId)).to.deep.equal([2]);
    expect(await store.getConsent('consent-1')).to.include({ consentId: 'consent-1', state: 'active' });

    // Every entry before the job is still there; the job's name the batch and the key, never a record's value.
    expect(await kinds(audit)).to.deep.equal(['consent.granted', 'retention.purged', 'retention.key_destroyed']);
    const [purgeEntry] = await audit.entries({ start: 1, end: 2, limit: 1 });
    const entryText = Buffer.from(purgeEntry?.entry ?? new Uint8Array()).toString('utf8');
    expect(JSON.parse(entryText)).to.include({ kind: 'retention.purged', batch_id: 'water-2019', dataset: DATASET, rows: 2, as_of: '2019-06-30',
      policy_version: policy.version, policy_sha256: policy.sha256 });
    expect(entryText).to.not.include('secret value');
    expect(run.purged[0]?.auditIndex).to.equal(1);

    // The recent batch's record still opens under the current key.
    const [kept] = await store.recordsBySubject(DATASET, blindIndex('s-water-2026'));
    const key = await keyring.get(2);
    expect(openRecord(() => key, recordAssociatedData(DATASET, kept?.recordId ?? 0), kept?.sealed ?? new Uint8Array()).toString()).to.equal('secret value k1');

    const again = await job.run();
    expect(again.purged).to.deep.equal([]);
    expect(again.destroyedKeys).to.deep.equal([]);
    expect(await audit.size()).to.equal(3);
  });

  it('keeps a data key a webhook secret is still sealed under', async () => {
    const first = await keyring.get(1);
    const sealedUnderFirst = sealWebhookSecret({ ...keyring, current: () => first }, 'bank-1', 'webhook signing secret');
    await store.addParticipant(participant('bank-1', 'bank'));
    await store.setWebhook(webhook('bank-1', { secret: sealedUnderFirst }));
    const run = await createRetentionJob({ store, audit, policy, actor: 'gateway', now: () => NOW }).run();
    expect(run.purged.map((batch) => batch.batchId)).to.deep.equal(['water-2019']);
    expect(run.destroyedKeys).to.deep.equal([]);
    expect((await store.listDataKeys()).map((key) => key.keyId)).to.deep.equal([1, 2]);
  });

  it('purges nothing when the audit entry cannot be written', async () => {
    const failing: AuditLog = { ...audit, append: async () => { throw new Error('the audit log is unavailable'); } };
    const job = createRetentionJob({ store, audit: failing, policy, actor: 'gateway', now: () => NOW });
    let failure: unknown;
    await job.run().catch((error: unknown) => { failure = error; });
    expect(String(failure)).to.include('the audit log is unavailable');
    expect(await store.countRecords(DATASET)).to.equal(3);
    expect((await store.listDataKeys()).map((entry) => entry.keyId)).to.deep.equal([1, 2]);
  });

  it('changes nothing in a dry run, and says what a run would do', async () => {
    const job = createRetentionJob({ store, audit, policy, actor: 'operator', now: () => NOW });
    const run = await job.run({ dryRun: true });
    expect(run.dryRun).to.equal(true);
    expect(run.purged.map((batch) => [batch.batchId, batch.records, batch.auditIndex])).to.deep.equal([['water-2019', 2, undefined]]);
    // Its key still seals the old batch's records, so no key would go until they are purged.
    expect(run.destroyedKeys).to.deep.equal([]);
    expect(await store.countRecords(DATASET)).to.equal(3);
    expect(await audit.size()).to.equal(1);
    expect((await store.listDataKeys()).map((key) => key.keyId)).to.deep.equal([1, 2]);
  });
});
