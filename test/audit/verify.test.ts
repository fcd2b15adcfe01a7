// Pins the proof verifiers (gateway/audit/verify.ts) against public vectors read from ../shared/vectors/:
// transparency-dev/merkle testdata/inclusion and testdata/consistency (every valid case verifies, every wantErr case
// throws a ProofError), google/certificate-transparency python/ct/crypto/merkle_test.py (consistency proofs and a real
// CT log's inclusion proof, with their negatives), and golang/mod sumdb/tlog/testdata/argon2020 (real proofs from
// Google's Argon 2020 log, in a tree of 961,984,013 leaves).
import path from 'node:path';
import { expect } from 'chai';
import { FROM_EMPTY_TREE_NOTE, ProofError, verifyConsistency, verifyInclusion } from '../../gateway/audit/verify.js';
import type { ProofFailure } from '../../gateway/audit/verify.js';
import { EMPTY_ROOT, leafHash } from '../../gateway/crypto/merkleHash.js';
import { asObject, b64, bool, describeVectors, hex, int, jsonFilesUnder, objects, readJson, str, strings } from '../support/vectors.js';
import type { JsonObject } from '../support/vectors.js';

/**
 * Valid vectors this verifier refuses on purpose, with the reason it gives. The one case has roots of 12 bytes
 * ("don't care 2"): transparency-dev compares equal-size roots byte for byte whatever their length, while this
 * verifier first requires every root and proof hash to be a 32-byte SHA-256 value.
 */
const REFUSED_ON_PURPOSE: Readonly<Record<string, ProofFailure>> = {
  'consistency/additional/sizes-are-equal-one-and-proof-is-empty.json': 'bad_hash_length',
};

function expectProofError(verify: () => void, reason?: ProofFailure): void {
  const check = expect(verify).to.throw(ProofError);
  if (reason !== undefined) check.with.property('reason', reason);
}

describe('audit/verify', () => {
  describeVectors('transparency-dev-merkle', 'transparency-dev/merkle testdata', (dir) => {
    const files = jsonFilesUnder(dir);

    it('has the 98 inclusion and 98 consistency cases the README lists', () => {
      expect(files.filter((file) => file.startsWith('inclusion/'))).to.have.length(98);
      expect(files.filter((file) => file.startsWith('consistency/'))).to.have.length(98);
    });

    for (const file of files) {
      const vector = readJson(path.join(dir, file));
      const wantErr = bool(vector, 'wantErr');
      const refusedFor = REFUSED_ON_PURPOSE[file];
      const title = `${file}: ${str(vector, 'desc')} → ${refusedFor ? `refused on purpose (${refusedFor})` : wantErr ? 'error' : 'valid'}`;
      const verify = file.startsWith('inclusion/')
        ? () => verifyInclusion(int(vector, 'leafIdx'), int(vector, 'treeSize'), b64(str(vector, 'leafHash')),
          strings(vector, 'proof').map(b64), b64(str(vector, 'root')))
        : () => verifyConsistency(int(vector, 'size1'), int(vector, 'size2'), strings(vector, 'proof').map(b64),
          b64(str(vector, 'root1')), b64(str(vector, 'root2')));
      it(title, () => {
        if (refusedFor !== undefined) {
          expect(wantErr).to.equal(false);
          expectProofError(verify, refusedFor);
        } else if (wantErr) {
          expectProofError(verify);
        } else {
          verify();
        }
      });
    }

    it('reads 2^64 − 1 exactly and refuses it as an index beyond the tree', () => {
      const vector = readJson(path.join(dir, 'inclusion/0/leafIdx-sub-@1.json'));
      expect(int(vector, 'leafIdx')).to.equal(2n ** 64n - 1n);
      expectProofError(() => verifyInclusion(int(vector, 'leafIdx'), int(vector, 'treeSize'), b64(str(vector, 'leafHash')),
        strings(vector, 'proof').map(b64), b64(str(vector, 'root'))), 'index_out_of_range');
    });
  });

  describeVectors('google-certificate-transparency', 'google/certificate-transparency merkle_test.py', (dir) => {
    const vectors = readJson(path.join(dir, 'ct-python-merkle-vectors.json'));
    const consistency = (vector: JsonObject) => () => verifyConsistency(int(vector, 'size1'), int(vector, 'size2'),
      strings(vector, 'proof').map(hex), hex(str(vector, 'root1')), hex(str(vector, 'root2')));

    it('verifies the valid consistency proofs', () => {
      for (const vector of objects(vectors, 'consistency_valid')) consistency(vector)();
    });

    for (const vector of objects(vectors, 'consistency_negative_from_test_methods')) {
      it(`refuses the consistency proof: ${str(vector, 'desc')}`, () => expectProofError(consistency(vector)));
    }

    const real = asObject(vectors.real_ct_inclusion, 'real_ct_inclusion');
    const realLeafHash = leafHash(hex(str(real, 'raw_leaf')));
    const realPath = strings(real, 'audit_path').map(hex);
    const realRoot = hex(str(real, 'root_hash'));

    it('verifies the inclusion of leaf 848,049 in a real CT log of 3,630,887 entries', () => {
      expect(realLeafHash.toString('hex')).to.equal(str(real, 'leaf_hash'));
      verifyInclusion(int(real, 'leaf_index'), int(real, 'tree_size'), realLeafHash, realPath, realRoot);
    });

    for (const negative of objects(vectors, 'real_ct_inclusion_negative')) {
      it(`refuses the real inclusion proof: ${str(negative, 'desc')}`, () => {
        const index = 'leaf_index' in negative ? int(negative, 'leaf_index') : int(real, 'leaf_index');
        const root = 'root_hash' in negative ? hex(str(negative, 'root_hash')) : realRoot;
        expectProofError(() => verifyInclusion(index, int(real, 'tree_size'), realLeafHash, realPath, root));
      });
    }
  });

  describeVectors('golang-mod-argon2020', 'golang/mod argon2020 (Google\'s Argon 2020 CT log)', (dir) => {
    const sth = readJson(path.join(dir, 'sth.json'));
    const size = int(sth, 'tree_size');
    const root = b64(str(sth, 'sha256_root_hash'));
    // Hard-coded in golang/mod sumdb/tlog/ct_test.go, not in the JSON files (see the folder's README).
    const oldSize = 3654490n;
    const oldRoot = b64('AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=');

    it('verifies the inclusion proof of leaf 10,000', () => {
      const [entry] = objects(readJson(path.join(dir, 'entries.json')), 'entries');
      const proof = readJson(path.join(dir, 'proof.json'));
      const auditPath = strings(proof, 'audit_path').map(b64);
      expect(auditPath).to.have.length(30);
      verifyInclusion(int(proof, 'leaf_index'), size, leafHash(b64(str(entry, 'leaf_input'))), auditPath, root);
      expectProofError(() => verifyInclusion(int(proof, 'leaf_index') + 1n, size, leafHash(b64(str(entry, 'leaf_input'))), auditPath, root), 'root_mismatch');
    });

    it('verifies the consistency proof from 3,654,490 to 961,984,013 leaves', () => {
      const proof = strings(readJson(path.join(dir, 'consistency.json')), 'consistency').map(b64);
      expect(proof).to.have.length(30);
      verifyConsistency(oldSize, size, proof, oldRoot, root);
      expectProofError(() => verifyConsistency(oldSize, size, proof.slice(0, -1), oldRoot, root), 'wrong_proof_length');
      expectProofError(() => verifyConsistency(oldSize, size, proof, root, oldRoot), 'root_mismatch');
    });
  });

  describe('bounds', () => {
    const someHash = leafHash(Buffer.from('x'));

    it('refuses sizes outside uint64 and indexes outside the tree', () => {
      expectProofError(() => verifyInclusion(0n, 2n ** 64n, someHash, [], someHash), 'size_out_of_range');
      expectProofError(() => verifyInclusion(-1n, 1n, someHash, [], someHash), 'size_out_of_range');
      expectProofError(() => verifyInclusion(1n, 1n, someHash, [], someHash), 'index_out_of_range');
      expectProofError(() => verifyConsistency(1n, 2n ** 64n, [], someHash, someHash), 'size_out_of_range');
      expectProofError(() => verifyConsistency(2n, 1n, [], someHash, someHash), 'sizes_out_of_order');
    });

    it('expects 64 hashes for the first leaf of a tree of 2^64 − 1 leaves, 63 for its last', () => {
      const size = 2n ** 64n - 1n;
      const hashes = (count: number) => Array.from({ length: count }, () => someHash);
      expectProofError(() => verifyInclusion(0n, size, someHash, hashes(63), someHash), 'wrong_proof_length');
      expectProofError(() => verifyInclusion(0n, size, someHash, hashes(64), someHash), 'root_mismatch');
      expectProofError(() => verifyInclusion(size - 1n, size, someHash, hashes(64), someHash), 'wrong_proof_length');
      expectProofError(() => verifyInclusion(size - 1n, size, someHash, hashes(63), someHash), 'root_mismatch');
    });

    it('refuses hashes that are not 32 bytes, in the leaf, the roots or the proof', () => {
      expectProofError(() => verifyInclusion(0n, 1n, someHash.subarray(1), [], someHash), 'bad_hash_length');
      expectProofError(() => verifyInclusion(0n, 2n, someHash, [Buffer.alloc(33)], someHash), 'bad_hash_length');
      expectProofError(() => verifyConsistency(1n, 2n, [someHash], someHash, Buffer.alloc(0)), 'bad_hash_length');
    });

    it('refuses consistency from the empty tree, even 0 → 0 with the empty root, and says why', () => {
      for (const size2 of [0n, 1n, 5n]) {
        expectProofError(() => verifyConsistency(0n, size2, [], EMPTY_ROOT, size2 === 0n ? EMPTY_ROOT : someHash), 'consistency_from_empty_tree');
      }
      expect(() => verifyConsistency(0n, 0n, [], EMPTY_ROOT, EMPTY_ROOT)).to.throw(FROM_EMPTY_TREE_NOTE);
    });
  });
});
