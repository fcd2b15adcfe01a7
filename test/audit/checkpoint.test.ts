// Pins C2SP tlog-checkpoint note texts (gateway/audit/checkpoint.ts): formatting, strict parsing, and a checkpoint
// signed and opened as a note. Vectors: ../shared/vectors/signed-note/ "checkpoint_body_parse", the table of
// transparency-dev/formats log/checkpoint_test.go TestUnmarshalLogState, whose parser is lenient; where C2SP is
// stricter (a 32-byte root, non-empty extension lines) this parser refuses what that one accepts, as listed below.
import path from 'node:path';
import { expect } from 'chai';
import { CheckpointError, formatCheckpoint, parseCheckpoint } from '../../gateway/audit/checkpoint.js';
import type { CheckpointFailure } from '../../gateway/audit/checkpoint.js';
import { EMPTY_ROOT, leafHash } from '../../gateway/crypto/merkleHash.js';
import { generateNoteKey, openNote, parseSignerKey, parseVerifierKey, signNote } from '../../gateway/crypto/note.js';
import { asObject, bool, describeVectors, objects, readJson, str } from '../support/vectors.js';

const ROOT = leafHash(Buffer.from('root'));
const ROOT_B64 = ROOT.toString('base64');

/**
 * transparency-dev/formats cases this strict parser refuses although that parser accepts them: their root hashes
 * are not 32 bytes ("bananas", a 36-byte sentence), or they end in empty lines, which C2SP forbids as extension lines.
 */
const STRICTER_THAN_FORMATS: Readonly<Record<string, CheckpointFailure>> = {
  'valid one': 'bad_root_hash',
  'valid with different origin': 'bad_root_hash',
  'valid with trailing data (one extension line)': 'bad_root_hash',
  'valid with multiple extension lines': 'bad_root_hash',
  'trailing empty lines': 'bad_root_hash',
};

function expectCheckpointError(text: string, reason?: CheckpointFailure): void {
  const check = expect(() => parseCheckpoint(text), JSON.stringify(text)).to.throw(CheckpointError);
  if (reason !== undefined) check.with.property('reason', reason);
}

describe('audit/checkpoint', () => {
  it('formats the three lines and any extension lines, and parses them back', () => {
    const text = formatCheckpoint({ origin: 'gateway.example/log', size: 20852163n, rootHash: ROOT });
    expect(text).to.equal(`gateway.example/log\n20852163\n${ROOT_B64}\n`);
    expect(parseCheckpoint(text)).to.deep.equal({ origin: 'gateway.example/log', size: 20852163n, rootHash: ROOT, extensionLines: [] });
    const extended = formatCheckpoint({ origin: 'o', size: 2n ** 64n - 1n, rootHash: ROOT, extensionLines: ['a', 'b c'] });
    expect(extended).to.equal(`o\n18446744073709551615\n${ROOT_B64}\na\nb c\n`);
    expect(parseCheckpoint(extended).extensionLines).to.deep.equal(['a', 'b c']);
    expect(parseCheckpoint(formatCheckpoint({ origin: 'o', size: 0n, rootHash: EMPTY_ROOT })).size).to.equal(0n);
  });

  it('refuses to format what it could not parse back, or an origin unfit as a key name', () => {
    const refused: Array<[CheckpointFailure, () => string]> = [
      ['bad_origin', () => formatCheckpoint({ origin: '', size: 1n, rootHash: ROOT })],
      ['bad_origin', () => formatCheckpoint({ origin: 'a b', size: 1n, rootHash: ROOT })],
      ['bad_origin', () => formatCheckpoint({ origin: 'a+b', size: 1n, rootHash: ROOT })],
      ['bad_origin', () => formatCheckpoint({ origin: 'a\nb', size: 1n, rootHash: ROOT })],
      ['bad_size', () => formatCheckpoint({ origin: 'o', size: -1n, rootHash: ROOT })],
      ['bad_size', () => formatCheckpoint({ origin: 'o', size: 2n ** 64n, rootHash: ROOT })],
      ['bad_root_hash', () => formatCheckpoint({ origin: 'o', size: 1n, rootHash: ROOT.subarray(1) })],
      ['bad_root_hash', () => formatCheckpoint({ origin: 'o', size: 0n, rootHash: ROOT })],
      ['bad_extension_line', () => formatCheckpoint({ origin: 'o', size: 1n, rootHash: ROOT, extensionLines: [''] })],
      ['bad_extension_line', () => formatCheckpoint({ origin: 'o', size: 1n, rootHash: ROOT, extensionLines: ['a\nb'] })],
    ];
    for (const [reason, format] of refused) expect(format).to.throw(CheckpointError).with.property('reason', reason);
  });

  it('refuses texts that break c2sp.org/tlog-checkpoint', () => {
    const cases: Array<[CheckpointFailure, string]> = [
      ['malformed_text', `o\n1\n${ROOT_B64}`],
      ['malformed_text', `o\n1\n`],
      ['malformed_text', `o\r\n1\n${ROOT_B64}\n`],
      ['bad_origin', `\n1\n${ROOT_B64}\n`],
      ['bad_size', `o\n0123\n${ROOT_B64}\n`],
      ['bad_size', `o\n+5\n${ROOT_B64}\n`],
      ['bad_size', `o\n 5\n${ROOT_B64}\n`],
      ['bad_size', `o\n5.0\n${ROOT_B64}\n`],
      ['bad_size', `o\n18446744073709551616\n${ROOT_B64}\n`],
      ['bad_root_hash', `o\n0\n${ROOT_B64}\n`],
      ['bad_root_hash', `o\n1\n${ROOT_B64.replace('=', '')}\n`],
      ['bad_root_hash', `o\n1\n${ROOT.toString('base64url')}=\n`],
      ['bad_root_hash', `o\n1\n${EMPTY_ROOT.subarray(0, 30).toString('base64')}\n`],
      ['bad_extension_line', `o\n1\n${ROOT_B64}\next\n\n`],
    ];
    expect(ROOT.toString('base64url')).to.not.equal(ROOT_B64.replace('=', ''));
    for (const [reason, text] of cases) expectCheckpointError(text, reason);
  });

  it('accepts an origin with spaces or "+" from others: C2SP only recommends against them', () => {
    expect(parseCheckpoint(`a log+1\n1\n${ROOT_B64}\n`).origin).to.equal('a log+1');
    expect(parseCheckpoint(`o\n18446744073709551615\n${ROOT_B64}\n`).size).to.equal(2n ** 64n - 1n);
  });

  it('round-trips through a signed note', () => {
    const { signerKey, verifierKey } = generateNoteKey('gateway.example/log');
    const note = signNote(formatCheckpoint({ origin: 'gateway.example/log', size: 7n, rootHash: ROOT }), parseSignerKey(signerKey));
    const checkpoint = parseCheckpoint(openNote(Buffer.from(note, 'utf8'), [parseVerifierKey(verifierKey)]).text);
    expect(checkpoint).to.deep.equal({ origin: 'gateway.example/log', size: 7n, rootHash: ROOT, extensionLines: [] });
  });

  describeVectors('signed-note', 'transparency-dev/formats checkpoint bodies', (dir) => {
    const table = objects(asObject(readJson(path.join(dir, 'signed-note-vectors.json')).checkpoint_body_parse, 'checkpoint_body_parse'), 'cases');
    for (const vector of table) {
      const desc = str(vector, 'desc');
      const stricter = STRICTER_THAN_FORMATS[desc];
      const lenientVerdict = bool(vector, 'formats_valid');
      it(`${desc}: ${lenientVerdict ? 'valid' : 'invalid'} for transparency-dev/formats${stricter ? `, refused here (${stricter})` : ''}`, () => {
        if (lenientVerdict && stricter === undefined) {
          parseCheckpoint(str(vector, 'body'));
        } else {
          expectCheckpointError(str(vector, 'body'), stricter);
        }
      });
    }

    it('parses the formats cases\' fields once their roots are 32 bytes, still refusing trailing empty lines', () => {
      const [valid, , trailing, , emptyLines] = table;
      const body = str(valid, 'body').replace(str(valid, 'hash_b64'), ROOT_B64);
      expect(parseCheckpoint(body)).to.deep.equal({ origin: 'Log', size: 123n, rootHash: ROOT, extensionLines: [] });
      const extended = str(trailing, 'body').replace('dGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==', ROOT_B64);
      expect(parseCheckpoint(extended).extensionLines).to.deep.equal([str(trailing, 'rest').slice(0, -1)]);
      expectCheckpointError(str(emptyLines, 'body').replace('dGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==', ROOT_B64), 'bad_extension_line');
    });
  });
});
