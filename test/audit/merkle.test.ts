// Pins the transparency log's Merkle tree (gateway/audit/merkle.ts, gateway/crypto/merkleHash.ts): the stored-hash
// layout of Go's golang.org/x/mod/sumdb/tlog, RFC 6962 hashes and roots, and the proofs built from stored hashes.
// Vectors: google/certificate-transparency python/ct/crypto/merkle_test.py (empty root, leaf and node hashes, roots of
// sizes 1–8, consistency proofs) and the happy paths of transparency-dev/merkle testdata/ (inclusion proofs in the
// same 8-leaf tree), read from ../shared/vectors/; and a property test over every tree of 1 to 70 leaves.
import path from 'node:path';
import { expect } from 'chai';
import {
  MAX_TREE_SIZE, consistencyProof, inclusionProof, splitStoredHashIndex, storedHashCount, storedHashIndex,
  storedHashesForRecord, treeHash,
} from '../../gateway/audit/merkle.js';
import { ProofError, verifyConsistency, verifyInclusion } from '../../gateway/audit/verify.js';
import { EMPTY_ROOT, HASH_SIZE, hashesEqual, leafHash, nodeHash } from '../../gateway/crypto/merkleHash.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { memoryTree } from './memoryTree.js';
import type { MemoryTree } from './memoryTree.js';
import { asObject, describeVectors, hex, int, jsonFilesUnder, objects, readJson, str, strings } from '../support/vectors.js';
import { rejection } from '../support/rejection.js';

/** RFC 6962 §2.1 MTH, straight from the definition, as the reference the stored-hash computation must agree with. */
function referenceRoot(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  if (leafHashes.length === 1) return leafHashes[0];
  let k = 1;
  while (k * 2 < leafHashes.length) k *= 2;
  return nodeHash(referenceRoot(leafHashes.slice(0, k)), referenceRoot(leafHashes.slice(k)));
}

function flipped(proof: readonly Buffer[], at: number): Buffer[] {
  return proof.map((hash, i) => {
    if (i !== at) return hash;
    const copy = Buffer.from(hash);
    copy[i % HASH_SIZE] ^= 0x01;
    return copy;
  });
}

function expectProofError(verify: () => void, reason: string): void {
  expect(verify).to.throw(ProofError).with.property('reason', reason);
}

describe('audit/merkle', () => {
  describe('hashes', () => {
    it('compares hashes by length and content', () => {
      expect(hashesEqual(leafHash(Buffer.from('a')), leafHash(Buffer.from('a')))).to.equal(true);
      expect(hashesEqual(leafHash(Buffer.from('a')), leafHash(Buffer.from('b')))).to.equal(false);
      expect(hashesEqual(EMPTY_ROOT, EMPTY_ROOT.subarray(0, 31))).to.equal(false);
    });
  });

  describe('stored hash layout', () => {
    it('stores each record\'s leaf hash followed by the subtrees it completes (the tlog order)', () => {
      // Storage order of the first 8 records: record n stores (0, n) then (1, n/2), (2, n/4)… while n ends in 1 bits.
      const order: Array<[number, number]> = [
        [0, 0], [0, 1], [1, 0], [0, 2], [0, 3], [1, 1], [2, 0], [0, 4], [0, 5], [1, 2], [0, 6], [0, 7], [1, 3], [2, 1], [3, 0],
      ];
      order.forEach(([level, n], index) => {
        expect(storedHashIndex(level, n), `(${level}, ${n})`).to.equal(index);
        expect(splitStoredHashIndex(index)).to.deep.equal({ level, n });
      });
      expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map(storedHashCount)).to.deep.equal([0, 1, 3, 4, 7, 8, 10, 11, 15]);
    });

    it('splits every stored index back into its subtree', () => {
      for (let index = 0; index < 5000; index++) {
        const { level, n } = splitStoredHashIndex(index);
        expect(storedHashIndex(level, n)).to.equal(index);
      }
    });

    it('keeps every index of a 2^52-record tree a safe integer, and refuses anything larger', async () => {
      expect(MAX_TREE_SIZE).to.equal(2 ** 52);
      expect(storedHashCount(MAX_TREE_SIZE)).to.equal(Number.MAX_SAFE_INTEGER);
      expect(storedHashIndex(52, 0)).to.equal(Number.MAX_SAFE_INTEGER - 1);
      expect(splitStoredHashIndex(Number.MAX_SAFE_INTEGER - 1)).to.deep.equal({ level: 52, n: 0 });
      expect(splitStoredHashIndex(Number.MAX_SAFE_INTEGER - 2)).to.deep.equal({ level: 51, n: 1 });
      expect(storedHashIndex(0, MAX_TREE_SIZE - 1)).to.equal(2 ** 53 - 54);
      for (const refused of [
        () => storedHashIndex(0, MAX_TREE_SIZE),
        () => storedHashIndex(53, 0),
        () => storedHashIndex(51, 2),
        () => storedHashIndex(-1, 0),
        () => storedHashIndex(0, 0.5),
        () => splitStoredHashIndex(Number.MAX_SAFE_INTEGER),
        () => splitStoredHashIndex(-1),
        () => storedHashCount(MAX_TREE_SIZE + 1),
      ]) {
        expect(refused).to.throw(GatewayError).with.property('code', 'invalid_argument');
      }
      for (const refused of [
        storedHashesForRecord(-1, leafHash(Buffer.alloc(0)), async () => []),
        storedHashesForRecord(MAX_TREE_SIZE, leafHash(Buffer.alloc(0)), async () => []),
        storedHashesForRecord(0, Buffer.alloc(31), async () => []),
      ]) {
        expect(await rejection(refused)).to.be.instanceOf(GatewayError).with.property('code', 'invalid_argument');
      }
    });

    it('stores storedHashCount(n) hashes for n records, appending 1 + trailing ones of n per record', async () => {
      const tree = await memoryTree();
      for (let n = 0; n < 300; n++) {
        await tree.append(Buffer.from(`entry ${n}`));
        expect(tree.stored.length).to.equal(storedHashCount(n + 1));
      }
    });

    it('refuses a hash store that answers the wrong number or size of hashes', async () => {
      const tree = await memoryTree([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
      expect(await rejection(treeHash(3, async () => [EMPTY_ROOT]))).to.be.instanceOf(GatewayError).with.property('code', 'internal_error');
      expect(await rejection(treeHash(3, async (indexes) => indexes.map(() => Buffer.alloc(31))))).to.be.instanceOf(GatewayError).with.property('code', 'internal_error');
      expect(await rejection(storedHashesForRecord(3, leafHash(Buffer.from('d')), async () => []))).to.be.instanceOf(GatewayError).with.property('code', 'internal_error');
      expect((await treeHash(3, tree.read)).length).to.equal(HASH_SIZE);
    });

    it('computes a root with one read of at most log2(size) + 1 hashes', async () => {
      const tree = await memoryTree(Array.from({ length: 1000 }, (_, i) => Buffer.from(String(i))));
      for (const size of [1, 2, 3, 511, 512, 513, 999, 1000]) {
        tree.reads.calls = 0;
        tree.reads.indexes = 0;
        await treeHash(size, tree.read);
        expect(tree.reads.calls).to.equal(1);
        expect(tree.reads.indexes).to.be.at.most(Math.floor(Math.log2(size)) + 1);
      }
    });
  });

  describeVectors('google-certificate-transparency', 'google/certificate-transparency vectors, through the stored hashes', (dir) => {
    const vectors = readJson(path.join(dir, 'ct-python-merkle-vectors.json'));
    const hasher = asObject(vectors.hasher, 'hasher');
    const treeVectors = asObject(vectors.tree_vectors, 'tree_vectors');
    const leaves = strings(treeVectors, 'leaves').map(hex);
    const roots = strings(treeVectors, 'roots_by_size_1_to_8').map(hex);

    it('hashes the empty tree, leaves and nodes as RFC 6962 does', async () => {
      expect(EMPTY_ROOT.toString('hex')).to.equal(str(hasher, 'empty_tree_hash'));
      expect((await treeHash(0, async () => [])).toString('hex')).to.equal(str(hasher, 'empty_tree_hash'));
      for (const vector of objects(hasher, 'leaf_hashes')) {
        expect(leafHash(hex(str(vector, 'leaf'))).toString('hex')).to.equal(str(vector, 'hash'));
      }
      for (const vector of objects(hasher, 'node_hashes')) {
        expect(nodeHash(hex(str(vector, 'left')), hex(str(vector, 'right'))).toString('hex')).to.equal(str(vector, 'hash'));
      }
    });

    it('computes the roots of sizes 1 to 8 from the appended leaves', async () => {
      const tree = await memoryTree(leaves);
      expect(leaves).to.have.length(8);
      for (const [i, root] of roots.entries()) expect((await treeHash(i + 1, tree.read)).toString('hex'), `size ${i + 1}`).to.equal(root.toString('hex'));
    });

    it('builds the expected consistency proofs, and they verify', async () => {
      const tree = await memoryTree(leaves);
      for (const vector of objects(vectors, 'consistency_valid')) {
        const size1 = int(vector, 'size1');
        const size2 = int(vector, 'size2');
        const expected = strings(vector, 'proof');
        const proof = await consistencyProof(Number(size1), Number(size2), tree.read);
        expect(proof.map((hash) => hash.toString('hex')), `${size1} → ${size2}`).to.deep.equal(expected);
        verifyConsistency(size1, size2, proof, hex(str(vector, 'root1')), hex(str(vector, 'root2')));
      }
    });

    describeVectors('transparency-dev-merkle', 'transparency-dev/merkle valid vectors, in the same 8-leaf tree', (tdev) => {
      it('builds the same inclusion and consistency proofs', async () => {
        const tree = await memoryTree(leaves);
        let checked = 0;
        for (const file of jsonFilesUnder(tdev)) {
          const vector = readJson(path.join(tdev, file));
          if (vector.wantErr !== false) continue;
          let proof: Buffer[];
          if (file.startsWith('inclusion/') && !file.startsWith('inclusion/single-entry/')) {
            proof = (await inclusionProof(Number(int(vector, 'leafIdx')), Number(int(vector, 'treeSize')), tree.read));
            expect(roots[Number(int(vector, 'treeSize')) - 1].toString('base64'), file).to.equal(str(vector, 'root'));
          } else if (file.startsWith('consistency/') && !file.startsWith('consistency/additional/')) {
            proof = (await consistencyProof(Number(int(vector, 'size1')), Number(int(vector, 'size2')), tree.read));
          } else {
            continue;
          }
          expect(proof.map((hash) => hash.toString('base64')), file).to.deep.equal(strings(vector, 'proof'));
          checked += 1;
        }
        expect(checked).to.equal(10);
      });
    });
  });

  describe('every tree of 1 to 70 leaves (property)', () => {
    const MAX = 70;
    const leafHashes = Array.from({ length: MAX }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
    let tree: MemoryTree;
    let roots: Buffer[];
    before(async () => {
      tree = await memoryTree(Array.from({ length: MAX }, (_, i) => Buffer.from(`leaf ${i}`)));
      roots = await Promise.all(Array.from({ length: MAX + 1 }, (_, size) => treeHash(size, tree.read)));
    });

    it('computes every root as RFC 6962 defines it, from a store that holds more records', () => {
      for (let size = 0; size <= MAX; size++) {
        expect(roots[size].equals(referenceRoot(leafHashes.slice(0, size))), `size ${size}`).to.equal(true);
      }
    });

    it('proves every leaf in every tree, with proofs that fail once a byte flips', async () => {
      for (let size = 1; size <= MAX; size++) {
        for (let index = 0; index < size; index++) {
          const proof = await inclusionProof(index, size, tree.read);
          verifyInclusion(BigInt(index), BigInt(size), leafHashes[index], proof, roots[size]);
          if (proof.length > 0) {
            expectProofError(() => verifyInclusion(BigInt(index), BigInt(size), leafHashes[index], flipped(proof, index % proof.length), roots[size]), 'root_mismatch');
          }
          expectProofError(() => verifyInclusion(BigInt(index), BigInt(size), flipped([leafHashes[index]], 0)[0], proof, roots[size]), 'root_mismatch');
        }
      }
    });

    it('proves every tree consistent with every smaller one, with proofs that fail once a byte flips', async () => {
      for (let size2 = 1; size2 <= MAX; size2++) {
        for (let size1 = 1; size1 <= size2; size1++) {
          const proof = await consistencyProof(size1, size2, tree.read);
          verifyConsistency(BigInt(size1), BigInt(size2), proof, roots[size1], roots[size2]);
          if (proof.length > 0) {
            expectProofError(() => verifyConsistency(BigInt(size1), BigInt(size2), flipped(proof, size1 % proof.length), roots[size1], roots[size2]), 'root_mismatch');
          }
          expectProofError(() => verifyConsistency(BigInt(size1), BigInt(size2), proof, flipped([roots[size1]], 0)[0], roots[size2]), 'root_mismatch');
          expectProofError(() => verifyConsistency(BigInt(size1), BigInt(size2), proof, roots[size1], flipped([roots[size2]], 0)[0]), 'root_mismatch');
        }
      }
    });

    it('reads the stored hashes once per proof, at most 2·⌈log2(size)⌉ + 2 of them', async () => {
      const counted = async (prove: () => Promise<Buffer[]>, size: number) => {
        tree.reads.calls = 0;
        tree.reads.indexes = 0;
        await prove();
        expect(tree.reads.calls).to.be.at.most(1);
        expect(tree.reads.indexes).to.be.at.most(2 * Math.ceil(Math.log2(size)) + 2);
      };
      for (let size = 1; size <= MAX; size++) {
        for (let i = 0; i < size; i++) await counted(() => inclusionProof(i, size, tree.read), size);
        for (let size1 = 1; size1 <= size; size1++) await counted(() => consistencyProof(size1, size, tree.read), size);
      }
    });

    it('refuses proofs that cannot exist', async () => {
      for (const refused of [
        inclusionProof(3, 3, tree.read),
        inclusionProof(-1, 3, tree.read),
        inclusionProof(0, 0, tree.read),
        consistencyProof(0, 3, tree.read),
        consistencyProof(0, 0, tree.read),
        consistencyProof(4, 3, tree.read),
        treeHash(MAX_TREE_SIZE + 1, tree.read),
      ]) {
        expect(await rejection(refused)).to.be.instanceOf(GatewayError).with.property('code', 'invalid_argument');
      }
    });
  });
});
