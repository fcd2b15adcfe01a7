// Pins the proof files `gateway audit verify-proof` reads (gateway/audit/proofFile.ts): integers read exactly up to
// 2^64 − 1, every malformed form refused as invalid_argument naming what is wrong, and every transparency-dev/merkle
// case (../shared/vectors/transparency-dev-merkle) written as a proof file and verified as the CLI does.
import path from 'node:path';
import { expect } from 'chai';
import { parseProofFile } from '../../gateway/audit/proofFile.js';
import type { ProofFile } from '../../gateway/audit/proofFile.js';
import { ProofError, verifyConsistency, verifyInclusion } from '../../gateway/audit/verify.js';
import { leafHash } from '../../gateway/crypto/merkleHash.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { b64, bool, describeVectors, int, jsonFilesUnder, readJson, str, strings } from '../support/vectors.js';

const HASH = leafHash(Buffer.from('a')).toString('base64');
const INCLUSION = `{"leaf_index":7,"tree_size":25,"leaf_hash":"${HASH}","proof":["${HASH}","${HASH}"],"root_hash":"${HASH}"}`;

function expectMalformed(text: string, message: string | RegExp, type: 'inclusion' | 'consistency' = 'inclusion'): void {
  let error: unknown;
  try {
    parseProofFile(type, text);
  } catch (caught) {
    error = caught;
  }
  expect(error, text).to.be.instanceOf(GatewayError).with.property('code', 'invalid_argument');
  expect((error as Error).message, text).to.match(typeof message === 'string' ? new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : message);
}

/** What the CLI does with a parsed file: 0 valid, 1 invalid. */
function outcome(proof: ProofFile): 0 | 1 {
  try {
    if (proof.type === 'inclusion') verifyInclusion(proof.leafIndex, proof.treeSize, proof.leafHash, proof.proof, proof.rootHash);
    else verifyConsistency(proof.firstSize, proof.secondSize, proof.proof, proof.firstRoot, proof.secondRoot);
    return 0;
  } catch (error) {
    if (error instanceof ProofError) return 1;
    throw error;
  }
}

describe('audit/proofFile', () => {
  it('reads both shapes, with sizes as exact BigInts, and ignores other members', () => {
    const inclusion = parseProofFile('inclusion', INCLUSION.replace('"leaf_index":7', '"leaf_index":18446744073709551615,"desc":"x 9007199254740993"'));
    expect(inclusion).to.deep.include({ type: 'inclusion', leafIndex: 2n ** 64n - 1n, treeSize: 25n });
    expect(inclusion.type === 'inclusion' && inclusion.proof.length).to.equal(2);
    const consistency = parseProofFile('consistency',
      `{"first_size":9007199254740993,"second_size":18446744073709551615,"first_root":"${HASH}","second_root":"${HASH}","proof":[]}`);
    expect(consistency).to.deep.include({ type: 'consistency', firstSize: 9007199254740993n, secondSize: 2n ** 64n - 1n, proof: [] });
  });

  it('refuses what is not a proof file, naming the member', () => {
    const cases: Array<[string, string | RegExp]> = [
      ['{"leaf_index": 7,', /^the proof file is not JSON: /],
      ['', /^the proof file is not JSON: /],
      ['[1, 2]', 'is not a JSON object'],
      ['null', 'is not a JSON object'],
      [INCLUSION.replace(`,"root_hash":"${HASH}"`, ''), 'has no "root_hash" in padded standard base64'],
      [INCLUSION.replace(`"root_hash":"${HASH}"`, '"root_hash":"not base64!"'), 'has no "root_hash" in padded standard base64'],
      [INCLUSION.replace(`"root_hash":"${HASH}"`, `"root_hash":"${HASH.replace(/=$/, '')}"`), 'has no "root_hash" in padded standard base64'],
      // The URL-safe alphabet is not standard base64.
      [INCLUSION.replace(`"root_hash":"${HASH}"`, `"root_hash":"${Buffer.alloc(32, 0xff).toString('base64url')}="`), 'has no "root_hash" in padded standard base64'],
      [INCLUSION.replace(`"leaf_hash":"${HASH}"`, `"leaf_hash":"${Buffer.alloc(31).toString('base64')}"`), 'has a "leaf_hash" of 31 bytes, not 32'],
      [INCLUSION.replace(`"proof":["${HASH}",`, `"proof":["${Buffer.alloc(33).toString('base64')}",`), 'has a "proof"[0] of 33 bytes, not 32'],
      [INCLUSION.replace(`"proof":["${HASH}","${HASH}"]`, '"proof":null'), 'has no "proof" array'],
      [INCLUSION.replace(`"proof":["${HASH}","${HASH}"]`, '"proof":[7]'), 'has no "proof"[0] in padded standard base64'],
      [INCLUSION.replace('"tree_size":25', '"tree_size":25.5'), 'has no "tree_size" integer in 0 … 2^64 − 1'],
      [INCLUSION.replace('"tree_size":25', '"tree_size":2.5e1'), 'has no "tree_size" integer'],
      [INCLUSION.replace('"tree_size":25', '"tree_size":25e0'), 'has no "tree_size" integer'],
      [INCLUSION.replace('"tree_size":25', '"tree_size":"25"'), 'has no "tree_size" integer'],
      [INCLUSION.replace('"leaf_index":7', '"leaf_index":-1'), 'has no "leaf_index" integer'],
      [INCLUSION.replace('"leaf_index":7', '"leaf_index":18446744073709551616'), 'has no "leaf_index" integer'],
      [INCLUSION.replace('"leaf_index":7', '"leaf_index":07'), /^the proof file is not JSON: /],
      // A string that looks like this parser's integer tag is still a string, whatever it holds.
      [INCLUSION.replace('"tree_size":25', '"tree_size":"\\u0000bigint:25"'), 'has no "tree_size" integer'],
    ];
    for (const [text, message] of cases) expectMalformed(text, message);
    expectMalformed(INCLUSION, 'has no "first_size" integer', 'consistency');
  });

  it('reads -0 as 0, which JSON allows', () => {
    expect(parseProofFile('inclusion', INCLUSION.replace('"leaf_index":7', '"leaf_index":-0'))).to.deep.include({ leafIndex: 0n });
  });

  describeVectors('transparency-dev-merkle', 'transparency-dev/merkle testdata as proof files', (dir) => {
    it('gives every case the answer of its wantErr, or malformed where a hash is not 32 bytes', () => {
      const answers = { valid: 0, invalid: 0, malformed: 0 };
      for (const file of jsonFilesUnder(dir)) {
        const vector = readJson(path.join(dir, file));
        const inclusion = file.startsWith('inclusion/');
        const hashes = inclusion ? [str(vector, 'leafHash'), str(vector, 'root')] : [str(vector, 'root1'), str(vector, 'root2')];
        const proof = JSON.stringify(strings(vector, 'proof'));
        // Integers are written as read, as BigInts: 2^64 − 1 must reach the parser exactly.
        const text = inclusion
          ? `{"leaf_index":${int(vector, 'leafIdx')},"tree_size":${int(vector, 'treeSize')},"leaf_hash":"${hashes[0]}","proof":${proof},"root_hash":"${hashes[1]}"}`
          : `{"first_size":${int(vector, 'size1')},"second_size":${int(vector, 'size2')},"first_root":"${hashes[0]}","second_root":"${hashes[1]}","proof":${proof}}`;
        const wellFormed = [...hashes, ...strings(vector, 'proof')].every((hash) => b64(hash).length === 32);
        if (!wellFormed) {
          expect(() => parseProofFile(inclusion ? 'inclusion' : 'consistency', text), file).to.throw(GatewayError);
          answers.malformed += 1;
          continue;
        }
        const result = outcome(parseProofFile(inclusion ? 'inclusion' : 'consistency', text));
        expect(result, file).to.equal(bool(vector, 'wantErr') ? 1 : 0);
        answers[result === 0 ? 'valid' : 'invalid'] += 1;
      }
      // 6 + 6 valid cases, less the one with 12-byte roots (see test/audit/verify.test.ts, REFUSED_ON_PURPOSE).
      expect(answers.valid).to.equal(11);
      expect(answers.valid + answers.invalid + answers.malformed).to.equal(196);
    });
  });
});
