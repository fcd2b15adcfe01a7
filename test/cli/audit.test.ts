// Pins `gateway audit verify` and `gateway audit verify-proof` as an auditor runs them: exit 0 on a clean log and a
// valid proof, exit 1 naming the first bad index after tampering, a damaged database or the reason a proof fails,
// exit 3 when no signed checkpoint anchored the check, exit 2 for a proof file that is not one; a consistency proof
// checked against a saved checkpoint; and the transparency-dev/merkle vectors as proof files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { expect } from 'chai';
import { consistencyProof, storedHashCount, treeHash } from '../../gateway/audit/merkle.js';
import { formatCheckpoint } from '../../gateway/audit/checkpoint.js';
import { generateNoteKey, parseSignerKey, signNote } from '../../gateway/crypto/note.js';
import { leafHash } from '../../gateway/crypto/merkleHash.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { json, runCli as gateway } from '../support/cli.js';
import type { Run } from '../support/cli.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';
import { b64, bool, describeVectors, int, readJson, str, strings } from '../support/vectors.js';
import { memoryTree } from '../audit/memoryTree.js';

const SIZE = 40;

interface VerifyJson {
  readonly ok: boolean;
  readonly tree_size: number;
  readonly checked_entries: number;
  readonly checkpoints_checked: number;
  readonly saved_checkpoints: ReadonlyArray<{ file: string; tree_size: number; root_hash: string; checked: boolean }>;
  readonly anchored: boolean;
  readonly root_hash: string | null;
  readonly first_bad_index: number | null;
  readonly problems: ReadonlyArray<{ kind: string; index?: number; tree_size?: number; detail: string }>;
}

/** Runs `node dist/gateway/cli/main.js ...args` with the data and keys directories under `root`. */
function exited(run: Run, code: number): Run {
  expect(run.code, `exit code; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).to.equal(code);
  return run;
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

describe('gateway audit', function () {
  this.timeout(300_000);
  let root: string;
  let file: (name: string) => string;
  let verifierKey: string;
  /** The log's roots at the sizes the verify output names. */
  const roots = new Map<number, string>();

  before(async function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-cli-audit-'));
    file = (name) => path.join(root, name);
    const config = testConfig(root);
    await prepareTestKeys(config);
    const runtime = (await openRuntime(config));
    try {
      const { log, checkpointer, noteKey, store } = runtime.audit;
      verifierKey = noteKey.verifierKey;
      for (let n = 0; n < SIZE; n++) {
        await log.append({ kind: 'audit.read', actor: `auditor-${n % 3}`, details: { n } });
        if (n + 1 === 10 || n + 1 === 25) await checkpointer.checkpointNow();
      }
      await checkpointer.checkpointNow();
      for (const size of [25, SIZE]) roots.set(size, base64(await log.rootAt(size)));
      // As GET /v1/audit/checkpoint serves it, with a witness's cosignature line after the log's own.
      fs.writeFileSync(file('saved-25.note'), `${(await store.checkpointAt(25))?.note ?? ''}— witness.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n`);
      fs.writeFileSync(file('saved-40.note'), (await store.checkpointAt(SIZE))?.note ?? '');
      fs.writeFileSync(file('saved-10.note'), (await store.checkpointAt(10))?.note ?? '');
      const forger = parseSignerKey(generateNoteKey(noteKey.origin).signerKey);
      fs.writeFileSync(file('forged.note'), signNote(formatCheckpoint({ origin: noteKey.origin, size: 25n, rootHash: await log.rootAt(25) }), forger));
      // As GET /v1/audit/proofs/inclusion and /consistency answer.
      const [entry] = await log.entries({ start: 7, end: 8, limit: 1 });
      const inclusion = {
        leaf_index: 7, tree_size: 25, leaf_hash: base64(leafHash(entry?.entry ?? Buffer.alloc(0))),
        proof: (await log.inclusionProof(7, 25)).map(base64), root_hash: base64(await log.rootAt(25)),
      };
      const consistency = {
        first_size: 10, second_size: SIZE, first_root: base64(await log.rootAt(10)), second_root: base64(await log.rootAt(SIZE)),
        proof: (await log.consistencyProof(10, SIZE)).map(base64),
      };
      const write = (name: string, body: unknown) => fs.writeFileSync(file(name), JSON.stringify(body));
      write('inclusion.json', inclusion);
      write('consistency.json', consistency);
      const flipped = Buffer.from(inclusion.proof[1] ?? '', 'base64');
      flipped[0] = (flipped[0] ?? 0) ^ 1;
      write('inclusion-flipped.json', { ...inclusion, proof: inclusion.proof.map((hash, i) => (i === 1 ? base64(flipped) : hash)) });
      write('consistency-short.json', { ...consistency, proof: consistency.proof.slice(0, -1) });
      fs.writeFileSync(file('inclusion-huge-index.json'), JSON.stringify(inclusion).replace('"leaf_index":7', '"leaf_index":18446744073709551615'));
    } finally {
      await runtime.close();
    }
  });

  after(function () {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  /** A data directory holding a copy of the log, changed by `tamper` through SQLite directly. */
  function tamperedDataDir(name: string, tamper: (db: SqliteDatabase) => void): string {
    const dataDir = file(name);
    fs.mkdirSync(dataDir);
    fs.copyFileSync(file('data/audit.sqlite'), path.join(dataDir, 'audit.sqlite'));
    const db = new Database(path.join(dataDir, 'audit.sqlite'));
    try {
      tamper(db);
    } finally {
      db.close();
    }
    return dataDir;
  }

  describe('verify', function () {
    it('exits 0 on the clean log; checks a saved checkpoint (with a cosignature line), refuses one the log did not sign', async function () {
      const [clean, saved, forged] = await Promise.all([
        gateway(root, ['audit', 'verify', '--json']),
        gateway(root, ['audit', 'verify', '--checkpoint', file('saved-25.note')]),
        gateway(root, ['audit', 'verify', '--checkpoint', file('forged.note'), '--json']),
      ]);
      const report = json<VerifyJson>(exited(clean, 0));
      expect(report).to.include({ ok: true, tree_size: SIZE, checked_entries: SIZE, checkpoints_checked: 3, first_bad_index: null, anchored: true });
      expect(report.problems).to.deep.equal([]);
      // The gateway's own checkpoint file, outside the database, anchors the check without being asked for.
      expect(report.saved_checkpoints).to.deep.equal([{ file: file('data/audit-checkpoint.txt'), tree_size: SIZE, root_hash: roots.get(SIZE), checked: true }]);
      expect(exited(saved, 0).stdout).to.equal([
        'audit log OK: 40 entries of 40 read, 3 stored checkpoints checked',
        `  root of the whole log (tree size 40): ${roots.get(SIZE) ?? ''}`,
        `  ${file('saved-25.note')} (tree size 25): root ${roots.get(25) ?? ''}, which the log's first 25 entries still hash to`,
        `  ${file('data/audit-checkpoint.txt')} (tree size 40): root ${roots.get(SIZE) ?? ''}, which the log's first 40 entries still hash to`,
        '',
      ].join('\n'));
      expect(json<{ error: { code: string } }>(exited(forged, 1)).error.code).to.equal('invalid_argument');
    });

    it('runs for an auditor with only the verifier key; creates neither keys nor a log', async function () {
      const env = { GATEWAY_KEYS_DIR: file('no-keys') };
      const [withKey, withoutKey, withoutLog] = await Promise.all([
        gateway(root, ['audit', 'verify', '--verifier-key', verifierKey, '--json'], env),
        gateway(root, ['audit', 'verify', '--json'], env),
        gateway(root, ['audit', 'verify'], { GATEWAY_DATA_DIR: file('no-data') }),
      ]);
      expect(json<VerifyJson>(exited(withKey, 0)).ok).to.equal(true);
      expect(json<{ error: { code: string } }>(exited(withoutKey, 1)).error.code).to.equal('key_material_missing');
      expect(exited(withoutLog, 1).stderr).to.match(/^error \(not_found\): there is no audit log at .*no-data.audit\.sqlite\n$/);
      expect(fs.existsSync(file('no-keys'))).to.equal(false);
      expect(fs.existsSync(file('no-data'))).to.equal(false);
    });

    it('exits 1 after each tampering, naming the first bad index', async function () {
      const cases: Array<[string, (db: SqliteDatabase) => void, string]> = [
        ['edited', (db) => {
          const { entry } = db.prepare('SELECT entry FROM audit_entries WHERE entry_index = 7').get() as { entry: Buffer };
          db.prepare('UPDATE audit_entries SET entry = ? WHERE entry_index = 7').run(Buffer.from(entry.toString('utf8').replace('"n":7', '"n":8')));
        }, ''],
        ['deleted', (db) => db.prepare('DELETE FROM audit_entries WHERE entry_index = 12').run(), '- missing at index 12: entry 12 is missing\n'],
        ['truncated', (db) => {
          db.prepare('DELETE FROM audit_entries WHERE entry_index >= 33').run();
          db.prepare('DELETE FROM audit_hashes WHERE hash_index >= ?').run(storedHashCount(33));
        }, '- truncated at index 33: the log has 33 entries, but it signed a checkpoint of size 40'],
      ];
      const dataDirs = cases.map(([name, tamper]) => tamperedDataDir(name, tamper));
      // The first as JSON, the others as a human reads them; then the truncated log against a saved checkpoint.
      const runs = await Promise.all([
        ...dataDirs.map((dataDir, i) => gateway(root, ['audit', 'verify', ...(i === 0 ? ['--json'] : [])], { GATEWAY_DATA_DIR: dataDir })),
        gateway(root, ['audit', 'verify', '--checkpoint', file('saved-40.note')], { GATEWAY_DATA_DIR: dataDirs[2] as string }),
      ]);
      const machine = json<VerifyJson>(exited(runs[0] as Run, 1));
      expect(machine).to.include({ ok: false, first_bad_index: 7 });
      expect(machine.problems[0]).to.include({ kind: 'modified', index: 7 });
      cases.slice(1).forEach(([name, , line], i) => {
        const run = runs[i + 1] as Run;
        const index = /at index (\d+)/.exec(line)?.[1];
        expect(exited(run, 1).stdout, name).to.match(new RegExp(`^audit log FAILED: first bad index ${index}\n`));
        expect(run.stdout, name).to.include(line);
      });
      expect(exited(runs[3] as Run, 1).stdout).to.include(`and ${file('saved-40.note')} is of size 40`);
    });

    it('says NOT VERIFIED (exit 3) when no signed checkpoint was there to check against, and OK with a warning when only stored ones were', async function () {
      const unanchored = tamperedDataDir('unanchored', (db) => db.prepare('DELETE FROM audit_checkpoints').run());
      const storedOnly = tamperedDataDir('stored-only', () => undefined);
      const [none, json3, stored] = await Promise.all([
        gateway(root, ['audit', 'verify'], { GATEWAY_DATA_DIR: unanchored }),
        gateway(root, ['audit', 'verify', '--json'], { GATEWAY_DATA_DIR: unanchored }),
        gateway(root, ['audit', 'verify'], { GATEWAY_DATA_DIR: storedOnly }),
      ]);
      expect(exited(none, 3).stdout).to.match(/^audit log NOT VERIFIED: 40 entries of 40 read, 0 stored checkpoints checked\. /)
        .and.include('no signed checkpoint was there to check them against').and.include('Pass --checkpoint FILE');
      expect(json<VerifyJson>(exited(json3, 3))).to.include({ ok: true, anchored: false, checkpoints_checked: 0 });
      expect(exited(stored, 0).stdout).to.match(/^audit log OK: 40 entries of 40 read, 3 stored checkpoints checked\n  root of the whole log \(tree size 40\): /)
        .and.include('no saved checkpoint was given');
    });

    it('reports a damaged database as FAILED with exit 1, never a crash', async function () {
      const damaged = tamperedDataDir('damaged', () => undefined);
      const database = path.join(damaged, 'audit.sqlite');
      const bytes = fs.readFileSync(database);
      // Every b-tree page header after the first page: the pages holding entries, hashes and indexes.
      for (let page = 1; page < bytes.length / 4096; page++) for (let i = 0; i < 12; i++) bytes[page * 4096 + i] ^= 0x5a;
      fs.writeFileSync(database, bytes);
      const [human, machine] = await Promise.all([
        gateway(root, ['audit', 'verify'], { GATEWAY_DATA_DIR: damaged }),
        gateway(root, ['audit', 'verify', '--json'], { GATEWAY_DATA_DIR: damaged }),
      ]);
      expect(exited(human, 1).stdout).to.match(/^audit log FAILED\n- database_damaged: .*audit\.sqlite is damaged \(.+\): restore it from a backup/);
      expect(human.stderr).to.equal('');
      const report = json<VerifyJson>(exited(machine, 1));
      expect(report).to.include({ ok: false, anchored: false });
      expect(report.problems.map((problem) => problem.kind)).to.deep.equal(['database_damaged']);
    });
  });

  describe('verify-proof --consistency --checkpoint', function () {
    it('accepts a proof whose first tree is the saved checkpoint\'s; refuses another size, a forked first root and a forged checkpoint', async function () {
      // The same sizes from a log with other entries: a valid proof, but not from the tree the gateway signed.
      const fork = await memoryTree(Array.from({ length: SIZE }, (_, n) => Buffer.from(`fork ${n}`)));
      fs.writeFileSync(file('consistency-fork.json'), JSON.stringify({
        first_size: 10, second_size: SIZE, first_root: base64((await treeHash(10, fork.read))), second_root: base64((await treeHash(SIZE, fork.read))),
        proof: (await consistencyProof(10, SIZE, fork.read)).map(base64),
      }));
      const [matching, otherSize, forked, forgedCheckpoint, withInclusion] = await Promise.all([
        gateway(root, ['audit', 'verify-proof', '--consistency', file('consistency.json'), '--checkpoint', file('saved-10.note')]),
        gateway(root, ['audit', 'verify-proof', '--consistency', file('consistency.json'), '--checkpoint', file('saved-25.note'), '--json']),
        gateway(root, ['audit', 'verify-proof', '--consistency', file('consistency-fork.json'), '--checkpoint', file('saved-10.note')]),
        gateway(root, ['audit', 'verify-proof', '--consistency', file('consistency.json'), '--checkpoint', file('forged.note'), '--json']),
        gateway(root, ['audit', 'verify-proof', '--inclusion', file('inclusion.json'), '--checkpoint', file('saved-10.note')]),
      ]);
      expect(exited(matching, 0).stdout).to.include('consistency proof valid').and.include(`the first tree is the saved checkpoint's (${file('saved-10.note')})`);
      expect(json(exited(otherSize, 1))).to.deep.include({ valid: false, reason: 'root_mismatch' });
      expect(exited(forked, 1).stdout).to.include('first_root is not the saved checkpoint\'s root');
      expect(json<{ error: { code: string; message: string } }>(exited(forgedCheckpoint, 1)).error.message).to.include('is not a checkpoint signed by the log\'s key');
      expect(exited(withInclusion, 2).stderr).to.include('--checkpoint goes with --consistency');
    });
  });

  describe('verify-proof', function () {
    it('exits 0 for the proofs the log serves, human and JSON', async function () {
      const [inclusion, consistency] = await Promise.all([
        gateway(root, ['audit', 'verify-proof', '--inclusion', file('inclusion.json')]),
        gateway(root, ['audit', 'verify-proof', '--consistency', file('consistency.json'), '--json']),
      ]);
      expect(exited(inclusion, 0).stdout).to.match(/^inclusion proof valid: leaf 7 is in the tree of size 25 with root [A-Za-z0-9+/]{43}=\n$/);
      expect(json(exited(consistency, 0))).to.deep.equal({ valid: true, type: 'consistency' });
    });

    it('exits 1 for proofs that do not hold, with the reason', async function () {
      const [flipped, short, huge, swapped] = await Promise.all([
        gateway(root, ['audit', 'verify-proof', '--inclusion', file('inclusion-flipped.json')]),
        gateway(root, ['audit', 'verify-proof', '--consistency', file('consistency-short.json'), '--json']),
        gateway(root, ['audit', 'verify-proof', '--inclusion', file('inclusion-huge-index.json')]),
        // A consistency proof is not an inclusion proof: the members are missing, so it is malformed rather than invalid.
        gateway(root, ['audit', 'verify-proof', '--inclusion', file('consistency.json')]),
      ]);
      expect(exited(flipped, 1).stdout).to.equal('inclusion proof INVALID (root_mismatch): the proof does not lead to root\n');
      expect(json(exited(short, 1))).to.deep.include({ valid: false, type: 'consistency', reason: 'wrong_proof_length' });
      expect(exited(huge, 1).stdout).to.include('(index_out_of_range): index 18446744073709551615 is not in a tree of size 25');
      expect(exited(swapped, 2).stderr).to.include('"leaf_index"');
    });

    // Every malformed form is pinned in-process in test/audit/proofFile.test.ts; these check the exit code and output.
    it('exits 2 for files that are not proof files, and without exactly one proof type', async function () {
      fs.writeFileSync(file('not-json.json'), '{"leaf_index": 7,');
      fs.writeFileSync(file('short-hash.json'), JSON.stringify({ ...JSON.parse(fs.readFileSync(file('inclusion.json'), 'utf8')), leaf_hash: base64(Buffer.alloc(31)) }));
      const [notJson, shortHash, noType] = await Promise.all([
        gateway(root, ['audit', 'verify-proof', '--inclusion', file('not-json.json'), '--json']),
        gateway(root, ['audit', 'verify-proof', '--inclusion', file('short-hash.json')]),
        gateway(root, ['audit', 'verify-proof', file('inclusion.json')]),
      ]);
      expect(json<{ error: { code: string; message: string } }>(exited(notJson, 2)).error).to.include({ code: 'invalid_argument' });
      expect(exited(shortHash, 2).stderr).to.equal('error (invalid_argument): the proof file has a "leaf_hash" of 31 bytes, not 32\n');
      expect(exited(noType, 2).stderr).to.equal('error (invalid_argument): pass exactly one of --inclusion and --consistency\n');
    });
  });

  describeVectors('transparency-dev-merkle', 'verify-proof on transparency-dev/merkle testdata', (dir) => {
    // One valid case, one with leaf index 2^64 − 1, and one whose 12-byte "roots" make it malformed here; every
    // case is run in-process in test/audit/proofFile.test.ts.
    const vectors = ['inclusion/1/happy-path.json', 'inclusion/1/leafIdx-sub-@1.json', 'consistency/additional/sizes-are-equal-one-and-proof-is-empty.json'];

    it('exits 0 for a valid case, 1 for an invalid one (2^64 − 1 read exactly), 2 where a hash is not 32 bytes', async function () {
      const converted = vectors.map((name) => {
        const vector = readJson(path.join(dir, name));
        const hashes = name.startsWith('inclusion/')
          ? [str(vector, 'leafHash'), str(vector, 'root')]
          : [str(vector, 'root1'), str(vector, 'root2')];
        const proof = strings(vector, 'proof');
        // Integers are written as they are read, as BigInts: 2^64 − 1 must reach the CLI exactly.
        const body = name.startsWith('inclusion/')
          ? `{"leaf_index":${int(vector, 'leafIdx')},"tree_size":${int(vector, 'treeSize')},"leaf_hash":${JSON.stringify(hashes[0])},`
            + `"proof":${JSON.stringify(proof)},"root_hash":${JSON.stringify(hashes[1])}}`
          : `{"first_size":${int(vector, 'size1')},"second_size":${int(vector, 'size2')},"first_root":${JSON.stringify(hashes[0])},`
            + `"second_root":${JSON.stringify(hashes[1])},"proof":${JSON.stringify(proof)}}`;
        const target = file(`vector-${name.replaceAll('/', '-')}`);
        fs.writeFileSync(target, body);
        const wellFormed = [...hashes, ...proof].every((hash) => b64(hash).length === 32);
        return { name, target, type: name.split('/')[0] as string, expected: !wellFormed ? 2 : bool(vector, 'wantErr') ? 1 : 0 };
      });
      expect(converted.map((vector) => vector.expected)).to.deep.equal([0, 1, 2]);
      const runs = await Promise.all(converted.map((vector) => gateway(root, ['audit', 'verify-proof', `--${vector.type}`, vector.target])));
      runs.forEach((run, i) => {
        const vector = converted[i] as (typeof converted)[number];
        expect(run.code, `${vector.name}: ${run.stdout}${run.stderr}`).to.equal(vector.expected);
        if (vector.expected === 1) expect(run.stdout, `${vector.name}: ${run.stderr}`).to.match(/ proof INVALID \([a-z_]+\): /);
      });
      expect(runs[1]?.stdout).to.include('index_out_of_range');
    });
  });
});
