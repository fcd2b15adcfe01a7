// The PostgreSQL engine passes the storage contracts, and what only a shared database has: instances racing to
// migrate, to append to the audit log, for an exclusive key and for a leader role. Skipped, saying why, where no
// PostgreSQL server can be started (test/support/postgres.ts).
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import pg from 'pg';
import { createAuditLog } from '../../gateway/audit/log.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { openPostgresAuditStore, openPostgresStore, type AuditStore, type Store } from '../../gateway/store/index.js';
import { postgresMigrationsDir } from '../../gateway/store/postgres/pgDatabase.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { rejection } from '../support/rejection.js';
import { auditStoreContract, type AuditStoreFactory } from './auditContract.js';
import { consentStoreContract } from './consentContract.js';
import { crashContract } from './crashContract.js';
import { storeContract, type StoreFactory } from './contract.js';
import { identityStoreContract } from './identityContract.js';
import { monitorStoreContract } from './monitorContract.js';
import { reportStoreContract } from './reportContract.js';
import { scorecardStoreContract } from './scorecardContract.js';
import { uplinkStoreContract } from './uplinkContract.js';
import { retentionStoreContract } from './retentionContract.js';
import { factsStoreContract } from './factsContract.js';

let server: PostgresServer | undefined;
let databaseUrl = '';
/** Every store this file opened, so that a database can be dropped with nothing left connected to it. */
const opened: { close(): Promise<void> }[] = [];

async function track<T extends { close(): Promise<void> }>(store: Promise<T>): Promise<T> {
  const open = await store;
  opened.push(open);
  return open;
}

async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
}

async function dropDatabase(url: string): Promise<void> {
  if (!server || url === '') return;
  const name = new URL(url).pathname.slice(1);
  const client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const postgres: StoreFactory = {
  async create() {
    databaseUrl = await (server as PostgresServer).createDatabase();
    return track(openPostgresStore({ url: databaseUrl }));
  },
  reopen: () => track(openPostgresStore({ url: databaseUrl })),
  async dispose() {
    await closeAll();
    await dropDatabase(databaseUrl);
    databaseUrl = '';
  },
};

const postgresAudit: AuditStoreFactory = {
  async create() {
    databaseUrl = await (server as PostgresServer).createDatabase();
    return track(openPostgresAuditStore({ url: databaseUrl }));
  },
  reopen: () => track(openPostgresAuditStore({ url: databaseUrl })),
  dispose: postgres.dispose,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds (a lock released by a closing session is released by the server a moment later). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await sleep(20);
  }
}

describe('PostgreSQL engine', function () {
  before(async function () {
    server = await startPostgres();
    if (!server) this.skip();
  });

  storeContract('postgres', postgres);
  identityStoreContract('postgres', postgres);
  consentStoreContract('postgres', postgres);
  monitorStoreContract('postgres', postgres);
  reportStoreContract('postgres', postgres);
  scorecardStoreContract('postgres', postgres);
  uplinkStoreContract('postgres', postgres);
  retentionStoreContract('postgres', postgres);
  factsStoreContract('postgres', postgres);
  auditStoreContract('postgres', postgresAudit);
  crashContract('postgres', postgres, new URL('./postgresOpener.js', import.meta.url), () => databaseUrl);

  describe('postgres: shared by several instances', () => {
    let url = '';
    beforeEach(async () => {
      url = await (server as PostgresServer).createDatabase();
    });
    afterEach(async () => {
      await closeAll();
      await dropDatabase(url);
    });

    it('applies the migrations once when two instances open a fresh database together', async () => {
      const [first, second, audit] = await Promise.all([
        track(openPostgresStore({ url })), track(openPostgresStore({ url })), track(openPostgresAuditStore({ url })),
      ]);
      const applied = await sql<{ version: number; n: string }>(url, 'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version');
      // Every migration in the folder, each applied exactly once.
      const shipped = readdirSync(postgresMigrationsDir).filter((file) => file.endsWith('.sql')).map((file) => Number(file.slice(0, 4))).sort((a, b) => a - b);
      expect(shipped).to.have.length.greaterThan(4);
      expect(applied).to.deep.equal(shipped.map((version) => ({ version, n: '1' })));
      await first.addDataKey(() => Buffer.from('k'), '2026-12-01T00:00:00.000Z');
      expect((await second.listDataKeys()).map((key) => key.keyId)).to.deep.equal([1]);
      expect(await audit.size()).to.equal(0);
    });

    it('refuses a database whose schema is newer than the code', async () => {
      await (await track(openPostgresStore({ url }))).close();
      await sql(url, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', '2027-01-01T00:00:00.000Z')`);
      const error = await rejection(openPostgresStore({ url }));
      expect(error).to.be.instanceOf(GatewayError);
      expect((error as GatewayError).code).to.equal('storage_unavailable');
      expect(error.message).to.match(/schema version 9999, newer than this gateway knows/);
    });

    it('gives 200 appends from two instances contiguous indexes and the tree one instance would have built', async () => {
      const now = () => new Date('2026-12-01T00:00:00.000Z');
      const [storeA, storeB] = await Promise.all([track(openPostgresAuditStore({ url })), track(openPostgresAuditStore({ url }))]);
      const [logA, logB] = [createAuditLog(storeA, now), createAuditLog(storeB, now)];
      const event = (n: number) => ({ kind: 'audit.read' as const, actor: n % 2 === 0 ? 'instance-a' : 'instance-b', details: { n } });
      const appended = await Promise.all(Array.from({ length: 200 }, (_, n) => (n % 2 === 0 ? logA : logB).append(event(n)).then((entry) => ({ n, entry }))));
      const byIndex = [...appended].sort((x, y) => x.entry.index - y.entry.index);
      expect(byIndex.map(({ entry }) => entry.index)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
      expect(await storeA.size()).to.equal(200);
      expect(await storeA.integrityProblems()).to.deep.equal([]);

      // The same entries, in the order they got, appended by one instance to a database of its own.
      const single = await (server as PostgresServer).createDatabase();
      try {
        const alone = await track(openPostgresAuditStore({ url: single }));
        const log = createAuditLog(alone, now);
        for (const { n } of byIndex) await log.append(event(n));
        const root = await log.rootAt(200);
        expect((await logA.rootAt(200)).equals(root)).to.equal(true);
        expect((await logB.rootAt(200)).equals(root)).to.equal(true);
        expect((await createAuditLog(storeB).inclusionProof(17, 200)).map((hash) => hash.toString('hex')))
          .to.deep.equal((await log.inclusionProof(17, 200)).map((hash) => hash.toString('hex')));
      } finally {
        await closeAll();
        await dropDatabase(single);
      }
    });

    it('runs work under one key on one instance at a time', async () => {
      const [a, b] = await Promise.all([track(openPostgresStore({ url })), track(openPostgresStore({ url }))]);
      const trace: string[] = [];
      let inside = 0;
      let overlapped = false;
      const work = (who: string, n: number) => async () => {
        inside += 1;
        if (inside > 1) overlapped = true;
        trace.push(`enter ${who}${n}`);
        await sleep(n % 3);
        trace.push(`exit ${who}${n}`);
        inside -= 1;
      };
      await Promise.all(Array.from({ length: 30 }, (_, n) => (n % 2 === 0 ? a : b).exclusive(['consent:c-1'], work(n % 2 === 0 ? 'a' : 'b', n))));
      expect(overlapped).to.equal(false);
      expect(trace).to.have.length(60);
      for (let i = 0; i < trace.length; i += 2) expect(trace[i + 1]).to.equal(trace[i]!.replace('enter', 'exit'));
      // Other keys do not wait for it.
      let release!: () => void;
      const holding = a.exclusive(['consent:c-2'], () => new Promise<void>((resolve) => {
        release = resolve;
      }));
      await sleep(20);
      expect(await b.exclusive(['consent:c-3'], async () => 'free')).to.equal('free');
      release();
      await holding;
    });

    it('lets exactly one of two instances lead a role, and the other take over when it closes', async () => {
      const [a, b] = await Promise.all([track(openPostgresStore({ url })), track(openPostgresStore({ url }))]);
      const first = await a.leads('checkpoint-signer');
      const second = await b.leads('checkpoint-signer');
      expect([first, second].filter(Boolean)).to.have.length(1);
      const [holder, other] = first ? [a, b] : [b, a];
      expect(await holder.leads('checkpoint-signer')).to.equal(true);
      expect(await other.leads('alert-sender')).to.equal(true);
      await holder.close();
      expect(await eventually(() => other.leads('checkpoint-signer'))).to.equal(true);
    });

    it('stops leading when its coordination connection is lost, and reconnects on the next call', async () => {
      const [a, b] = await Promise.all([track(openPostgresStore({ url })), track(openPostgresStore({ url }))]);
      expect(await a.leads('sweeper')).to.equal(true);
      expect(await b.leads('sweeper')).to.equal(false);
      // The one session holding an advisory lock now is a's coordination connection.
      await sql(url, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
      expect(await eventually(() => b.leads('sweeper'))).to.equal(true);
      expect(await eventually(async () => (await a.leads('sweeper').catch(() => false)) === false)).to.equal(true);
      expect(await a.leads('sweeper')).to.equal(false);
      expect(await a.exclusive(['event:e-1'], async () => 'ran')).to.equal('ran');
    });

    it('fails closed when no new coordination connection can be made: exclusive and leads reject, and lead nothing', async () => {
      const store = await track(openPostgresStore({ url }));
      expect(await store.leads('sweeper')).to.equal(true);
      // Dropping the database ends every session on it, and no new one can be opened.
      await dropDatabase(url);
      const codeOf = async (work: Promise<unknown>) => ((await rejection(work)) as GatewayError).code;
      expect(await eventually(async () => (await store.leads('sweeper').then(() => 'led', (error: GatewayError) => error.code)) === 'storage_unavailable'))
        .to.equal(true);
      expect(await codeOf(store.leads('sweeper'))).to.equal('storage_unavailable');
      let ran = false;
      expect(await codeOf(store.exclusive(['consent:c-1'], async () => {
        ran = true;
      }))).to.equal('storage_unavailable');
      expect(ran).to.equal(false);
      expect(await codeOf(store.ping())).to.equal('storage_unavailable');
    });

    it('keeps records of batches of one dataset committed by two instances at once consistent', async () => {
      const [a, b] = await Promise.all([track(openPostgresStore({ url })), track(openPostgresStore({ url }))]);
      const subject = Buffer.from('subject-A.......');
      const batch = async (store: Store, batchId: string, asOf: string) => {
        const writer = await store.beginBatch('water_accounts');
        await writer.add([{ rowNumber: 1, keyIndex: Buffer.from('k1..............'), subjectIndex: subject, sealed: Buffer.from(batchId) }]);
        return writer.commit({ batchId, dataset: 'water_accounts', source: 's', contentHash: batchId, format: 'ndjson', rowCount: 1, asOf, receivedAt: '2026-12-01T00:00:00.000Z' });
      };
      // Begun in one order, committed in the other: supersession must not depend on which got the lower batch number.
      await Promise.all([batch(a, 'jan', '2026-01-31'), batch(b, 'feb', '2026-02-28'), batch(a, 'mar', '2026-03-31'), batch(b, 'apr', '2026-04-30')]);
      const current = await a.recordsBySubject('water_accounts', subject);
      expect(current.map((record) => Buffer.from(record.sealed).toString())).to.deep.equal(['apr']);
      expect(await a.countRecords('water_accounts')).to.equal(4);
      // The same content sent to both instances at once is stored once.
      const results = await Promise.all([batch(a, 'may', '2026-05-31'), batch(b, 'may', '2026-05-31')]);
      expect(results.map((result) => result.outcome).sort()).to.deep.equal(['duplicate', 'stored']);
      expect(await b.countRecords('water_accounts')).to.equal(5);
    });

    it('holds a subscription\'s transaction for its baseline: no batch commits meanwhile, its own reads run inside it, a throw undoes it', async () => {
      const [a, b] = await Promise.all([track(openPostgresStore({ url })), track(openPostgresStore({ url }))]);
      const subject = Buffer.from('subject-A.......');
      const subscription = (subscriptionId: string) => ({
        subscriptionId, bankId: 'bank-1', consentId: `consent-${subscriptionId}`, uscc: '91350100M000100Y43', subjectIndex: subject,
        rules: ['arrears_started'], createdAt: '2026-11-26T00:00:00.000Z', auditIndex: 1,
      });
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let seenInside: string | undefined;
      const adding = a.addSubscription(subscription('s-1'), async () => {
        // A call the baseline makes through the store runs on the transaction's client: it sees the uncommitted row.
        seenInside = (await a.getSubscription('s-1'))?.subscriptionId;
        await held;
        order.push('baseline');
        return [{ subscriptionId: 's-1', questionId: 'medical_arrears_now', answer: 'false' }];
      });
      await sleep(30);
      const writer = await b.beginBatch('water_accounts');
      await writer.add([{ rowNumber: 1, keyIndex: Buffer.from('k1..............'), subjectIndex: subject, sealed: Buffer.from('x') }]);
      const committing = writer.commit({
        batchId: 'b-1', dataset: 'water_accounts', source: 's', contentHash: 'h-1', format: 'ndjson', rowCount: 1, asOf: '2026-11-26',
        receivedAt: '2026-11-26T00:00:00.000Z',
      }, async (transaction) => {
        order.push(`batch sees ${(await transaction.watchedSubjects(0)).length === 0 ? 'no' : 'a'} subscription row`);
      }).then(() => order.push('batch committed'));
      // Another instance reading meanwhile sees what was committed before (MVCC), without waiting.
      expect(await b.getSubscription('s-1')).to.equal(undefined);
      await sleep(50);
      expect(order).to.deep.equal([]);
      release();
      await Promise.all([adding, committing]);
      expect(seenInside).to.equal('s-1');
      expect(order).to.deep.equal(['baseline', 'batch sees no subscription row', 'batch committed']);
      expect((await b.getSubscription('s-1'))?.state).to.equal('active');

      expect((await rejection(a.addSubscription(subscription('s-2'), async () => {
        throw new Error('the baseline failed');
      }))).message).to.equal('the baseline failed');
      expect(await a.getSubscription('s-2')).to.equal(undefined);
      expect(await a.activeSubscriptionsOfConsent('consent-s-2')).to.deep.equal([]);
      expect((await rejection(a.addSubscription(subscription('s-1'), async () => []))) as GatewayError).to.include({ code: 'subscription_exists' });
    });

    it('says storage_unavailable, without the password, when the server cannot be reached', async () => {
      // Port 1 on the loopback interface: nothing listens there.
      const error = await rejection(openPostgresStore({ url: 'postgres://gateway:s3cret-pw@127.0.0.1:1/gateway' }));
      expect(error).to.be.instanceOf(GatewayError);
      expect((error as GatewayError).code).to.equal('storage_unavailable');
      expect(`${error.message} ${String((error as Error & { cause?: unknown }).cause)}`).not.to.include('s3cret-pw');
      const store = await track(openPostgresStore({ url: url.replace('gateway@', 'gateway:s3cret-pw@') }));
      expect(store.engine).to.deep.equal({ name: 'postgres', location: url });
      await store.ping();
    });

    it('keeps a duplicate key\'s bytes out of its error', async () => {
      const audit: AuditStore = await track(openPostgresAuditStore({ url }));
      await audit.addCheckpoint({ treeSize: 1, rootHash: Buffer.alloc(32), note: 'n', createdAt: '2026-12-01T00:00:00.000Z' });
      const store = await track(openPostgresStore({ url }));
      await store.addEnrolmentCode({ codeId: 'c-1', codeSha256: 'secret-hash-value', uscc: 'u', name: 'n', issuedBy: 'operator', issuedAt: 'a', expiresAt: 'b' });
      const error = await rejection(store.addEnrolmentCode({ codeId: 'c-2', codeSha256: 'secret-hash-value', uscc: 'u', name: 'n', issuedBy: 'operator', issuedAt: 'a', expiresAt: 'b' }));
      expect(JSON.stringify({ ...error, message: error.message })).not.to.include('secret-hash-value');
      expect((error as Error & { code?: string }).code).to.equal('23505');
    });
  });
});
