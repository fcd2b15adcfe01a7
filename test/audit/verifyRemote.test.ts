// Pins the remote audit (gateway/audit/verifyRemote.ts) against a real log served through an adapter that can lie:
// an honest log passes, with the saved checkpoint contained and both proofs checked; an edited, withheld, truncated
// or forked log, or a proof that does not hold, fails with the problem named.
import { expect } from 'chai';
import { formatCheckpoint } from '../../gateway/audit/checkpoint.js';
import { verifyRemoteLog } from '../../gateway/audit/verifyRemote.js';
import type { RemoteAuditLog } from '../../gateway/audit/verifyRemote.js';
import { signNote } from '../../gateway/crypto/note.js';
import type { AuditRuntime } from '../../gateway/runtime/index.js';
import { openTestRuntime } from '../support/runtime.js';
import type { TestRuntime } from '../support/runtime.js';

const SAVED_SIZE = 13;
const SIZE = 30;

describe('verifyRemoteLog', function () {
  let t: TestRuntime;
  let audit: AuditRuntime;
  let savedNote: string;

  /** The log as the audit API serves it, each part replaceable by a lie. */
  function served(lies: Partial<RemoteAuditLog> = {}, pageSize = 7): RemoteAuditLog {
    return {
      checkpoint: async () => signNote(formatCheckpoint({ origin: audit.noteKey.origin, size: BigInt(SIZE), rootHash: await audit.log.rootAt(SIZE) }), audit.noteKey.signer),
      entries: async (start, end) => (await audit.log.entries({ start, end, limit: pageSize })).map(({ index, entry }) => ({ index, entry: Buffer.from(entry) })),
      consistencyProof: async (first, second) => audit.log.consistencyProof(first, second),
      inclusionProof: async (index, treeSize) => audit.log.inclusionProof(index, treeSize),
      ...lies,
    };
  }

  const verify = (log: RemoteAuditLog, savedCheckpoint: string | undefined = savedNote) =>
    verifyRemoteLog(log, { verifierKey: audit.noteKey.verifierKey, origin: audit.noteKey.origin, savedCheckpoint });

  before(async function () {
    t = await openTestRuntime();
    audit = t.runtime.audit;
    for (let n = 0; n < SIZE; n++) await audit.log.append({ kind: 'audit.read', actor: 'auditor-1', details: { n } });
    savedNote = signNote(formatCheckpoint({ origin: audit.noteKey.origin, size: BigInt(SAVED_SIZE), rootHash: await audit.log.rootAt(SAVED_SIZE) }), audit.noteKey.signer);
  });

  after(async function () {
    await t?.dispose();
  });

  it('passes an honest log: every entry read, the saved checkpoint contained, both proofs checked', async function () {
    const result = await verify(served());
    expect(result.problems).to.deep.equal([]);
    expect(result).to.include({ ok: true, checkedEntries: SIZE, inclusionChecked: SIZE - 1 });
    expect(result.latest?.treeSize).to.equal(SIZE);
    expect(result.recomputedRoot?.equals(await audit.log.rootAt(SIZE))).to.equal(true);
    expect(result.saved).to.deep.include({ treeSize: SAVED_SIZE, contained: true });
    expect(result.consistencyChecked).to.deep.equal({ first: SAVED_SIZE, second: SIZE });
  });

  it('fails an entry edited after it was signed: root_mismatch, and the saved checkpoint no longer contained when before it', async function () {
    const honest = served();
    const edited: RemoteAuditLog['entries'] = async (start, end) => (await honest.entries(start, end)).map((item) =>
      (item.index === 4 ? { index: 4, entry: Buffer.from(item.entry.toString('utf8').replace('"n":4', '"n":5')) } : item));
    const result = await verify(served({ entries: edited }));
    expect(result.ok).to.equal(false);
    expect(result.problems.map((problem) => problem.kind)).to.have.members(['inconsistent_with_saved_checkpoint', 'root_mismatch']);
  });

  it('fails a log that withholds an entry: missing, at its index', async function () {
    const honest = served();
    const withheld: RemoteAuditLog['entries'] = async (start, end) => (await honest.entries(start, end)).filter((item) => item.index !== 20);
    const result = await verify(served({ entries: withheld }));
    expect(result.ok).to.equal(false);
    expect(result.problems).to.deep.include({ kind: 'missing', index: 20, detail: `entry 20 of the ${SIZE} the latest checkpoint signed was not served` });
    expect(result.checkedEntries).to.equal(20);
  });

  it('fails a latest checkpoint smaller than the saved one: the log was truncated or forked', async function () {
    const small = async () => signNote(formatCheckpoint({ origin: audit.noteKey.origin, size: 5n, rootHash: await audit.log.rootAt(5) }), audit.noteKey.signer);
    const result = await verify(served({ checkpoint: small }));
    expect(result.ok).to.equal(false);
    expect(result.problems[0]?.kind).to.equal('inconsistent_with_saved_checkpoint');
  });

  it('fails against a saved checkpoint of a fork (another tree the key signed at that size)', async function () {
    const fork = signNote(formatCheckpoint({ origin: audit.noteKey.origin, size: BigInt(SAVED_SIZE), rootHash: await audit.log.rootAt(SAVED_SIZE + 1) }), audit.noteKey.signer);
    const result = await verify(served(), fork);
    expect(result.ok).to.equal(false);
    expect(result.problems.map((problem) => problem.kind)).to.have.members(['inconsistent_with_saved_checkpoint', 'bad_consistency_proof']);
  });

  it('fails proofs that do not hold against the signed roots', async function () {
    const result = await verify(served({
      consistencyProof: async (first, second) => audit.log.consistencyProof(first + 1, second),
      inclusionProof: async (index, treeSize) => audit.log.inclusionProof(index - 1, treeSize),
    }));
    expect(result.problems.map((problem) => problem.kind)).to.have.members(['bad_consistency_proof', 'bad_inclusion_proof']);
  });

  it('fails a latest checkpoint not signed by the log\'s key, and refuses a saved one that is not', async function () {
    const unsigned = async () => formatCheckpoint({ origin: audit.noteKey.origin, size: BigInt(SIZE), rootHash: await audit.log.rootAt(SIZE) });
    const result = await verify(served({ checkpoint: unsigned }));
    expect(result).to.include({ ok: false });
    expect(result.problems[0]?.kind).to.equal('bad_checkpoint');
    let refusal: unknown;
    await verify(served(), 'not a note').catch((error: unknown) => { refusal = error; });
    expect(refusal).to.have.property('code', 'invalid_argument');
  });
});
