// Pins C2SP signed notes with Ed25519 keys (gateway/crypto/note.ts; kept here with the other transparency-log tests):
// key strings and key IDs, signing, and strict opening. Vectors from ../shared/vectors/signed-note/: the C2SP
// signed-note example, golang/mod sumdb/note/note_test.go (PeterNeumann and EnochRoot keys and signatures, its
// open semantics, malformed notes and bad verifier keys) and the C2SP tlog-checkpoint example note.
import path from 'node:path';
import { expect } from 'chai';
import {
  MAX_NOTE_SIGNATURES, NoteError, decodeBase64Strict, generateNoteKey, openNote, parseSignerKey, parseVerifierKey, signNote,
} from '../../gateway/crypto/note.js';
import type { NoteFailure, NoteVerifier } from '../../gateway/crypto/note.js';
import { parseCheckpoint } from '../../gateway/audit/checkpoint.js';
import { asObject, describeVectors, objects, readJson, str, strings } from '../support/vectors.js';
import type { JsonObject } from '../support/vectors.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

function expectNoteError(action: () => unknown, reason: NoteFailure): void {
  expect(action).to.throw(NoteError).with.property('reason', reason);
}

describe('crypto/note', () => {
  describe('keys generated here', () => {
    it('sign notes that open with the matching verifier key only', () => {
      const { signerKey, verifierKey } = generateNoteKey('gateway.example/log');
      expect(signerKey).to.match(/^PRIVATE\+KEY\+gateway\.example\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
      expect(verifierKey).to.match(/^gateway\.example\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
      const signer = parseSignerKey(signerKey);
      const verifier = parseVerifierKey(verifierKey);
      expect(signer.keyId).to.equal(verifier.keyId);
      const note = signNote('hello\n\nworld\n', signer);
      const opened = openNote(utf8(note), [verifier]);
      expect(opened.text).to.equal('hello\n\nworld\n');
      expect(opened.signatures.map((s) => [s.name, s.keyId, s.signature.length])).to.deep.equal([['gateway.example/log', verifier.keyId, 64]]);
      expectNoteError(() => openNote(utf8(note), [parseVerifierKey(generateNoteKey('gateway.example/log').verifierKey)]), 'no_verified_signature');
    });

    it('refuse names with spaces, "+" or control characters, and texts that cannot be signed', () => {
      for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u0001b', 'a\u2028b', '\ud800']) {
        expectNoteError(() => generateNoteKey(name), 'malformed_key');
      }
      const signer = parseSignerKey(generateNoteKey('n').signerKey);
      for (const text of ['no final newline', 'bell \u0007\n', 'cr\r\n', 'lone surrogate \ud800\n']) {
        expectNoteError(() => signNote(text, signer), 'malformed_note');
      }
    });
  });

  describe('base64', () => {
    it('accepts only canonical padded standard base64', () => {
      expect(decodeBase64Strict('')).to.deep.equal(Buffer.alloc(0));
      expect(decodeBase64Strict('YWI=')).to.deep.equal(utf8('ab'));
      for (const bad of ['YWI', 'YWJ=', 'YW I=', 'YWI==', '-_8=', '_w==', 'YWI=\n', '====']) {
        expect(decodeBase64Strict(bad), bad).to.equal(undefined);
      }
    });
  });

  describeVectors('signed-note', 'signed-note vectors', (dir) => {
    const vectors = readJson(path.join(dir, 'signed-note-vectors.json'));
    const [c2sp, peter, enoch] = objects(vectors, 'ed25519_notes');
    const peterKey = parseVerifierKey(str(peter, 'vkey'));
    const enochKey = parseVerifierKey(str(enoch, 'vkey'));
    const text = str(peter, 'text');
    const peterLine = str(peter, 'signature_line');
    const enochLine = str(enoch, 'signature_line');

    it('parses the verifier keys and their key IDs', () => {
      const ids = [c2sp, peter, enoch].map((vector: JsonObject) => {
        const key = parseVerifierKey(str(vector, 'vkey'));
        return `${key.name}+${key.keyId.toString(16).padStart(8, '0')}`;
      });
      expect(ids).to.deep.equal(['example.com/foo+530d903a', 'PeterNeumann+c74f20a3', 'EnochRoot+af0cfe78']);
    });

    it('reproduces Go\'s PeterNeumann signature from its signer key', () => {
      const signer = parseSignerKey(str(peter, 'skey'));
      expect([signer.name, signer.keyId]).to.deep.equal(['PeterNeumann', 0xc74f20a3]);
      expect(signNote(text, signer)).to.equal(`${text}\n${peterLine}`);
    });

    it('opens the C2SP example and Go\'s notes', () => {
      const example = openNote(utf8(str(c2sp, 'signed_note')), [parseVerifierKey(str(c2sp, 'vkey'))]);
      expect(example.text).to.equal(str(c2sp, 'text'));
      expect(example.signatures.map((s) => s.keyId)).to.deep.equal([0x530d903a]);
      expect(openNote(utf8(`${text}\n${enochLine}`), [enochKey]).signatures.map((s) => s.name)).to.deep.equal(['EnochRoot']);
    });

    it('verifies the known keys\' signatures and keeps the unknown ones unverified', () => {
      const note = utf8(`${text}\n${peterLine}${enochLine}`);
      const peterOnly = openNote(note, [peterKey]);
      expect(peterOnly.signatures.map((s) => s.name)).to.deep.equal(['PeterNeumann']);
      expect(peterOnly.unverifiedSignatures.map((s) => [s.name, s.keyId])).to.deep.equal([['EnochRoot', 0xaf0cfe78]]);
      expect(openNote(note, [peterKey, enochKey]).signatures.map((s) => s.name)).to.deep.equal(['PeterNeumann', 'EnochRoot']);
      // A repeated signature line counts once.
      const twice = openNote(utf8(`${text}\n${peterLine}${enochLine}${peterLine}${enochLine}`), [peterKey]);
      expect([twice.signatures.length, twice.unverifiedSignatures.length]).to.deep.equal([1, 1]);
    });

    it('ignores a key that shares only the name or only the key ID with a signature', () => {
      const sameName: NoteVerifier = { name: 'PeterNeumann', keyId: 0x12345678, verify: () => true };
      const sameId: NoteVerifier = { name: 'PeterNeumann2', keyId: peterKey.keyId, verify: () => true };
      expectNoteError(() => openNote(utf8(`${text}\n${peterLine}`), [sameName, sameId]), 'no_verified_signature');
    });

    it('refuses a note without a verified signature by a known key', () => {
      expectNoteError(() => openNote(utf8(`${text}\n${enochLine}`), [peterKey]), 'no_verified_signature');
      expectNoteError(() => openNote(utf8(`${text}\n${peterLine}`), []), 'no_verified_signature');
    });

    it('refuses the whole note when a known key\'s signature fails (Go: "ABCD" spliced in at offset 60)', () => {
      const spliced = `${peterLine.slice(0, 60)}ABCD${peterLine.slice(60)}`;
      expectNoteError(() => openNote(utf8(`${text}\n${spliced}${enochLine}`), [peterKey, enochKey]), 'invalid_signature');
      expectNoteError(() => openNote(utf8(`${text.replace('cryptography', 'cryptographY')}\n${peterLine}`), [peterKey]), 'invalid_signature');
      expectNoteError(() => openNote(utf8(`${text}\n${peterLine}${peterLine.replace('nAM=', 'nAE=')}`), [peterKey]), 'invalid_signature');
    });

    it('splits at the last blank line, so signatures above a blank line become text', () => {
      const note = utf8(`${text}\n${peterLine}\n${enochLine}`);
      expectNoteError(() => openNote(note, [peterKey]), 'no_verified_signature');
      expectNoteError(() => openNote(note, [enochKey]), 'invalid_signature');
    });

    it('refuses two verifiers for the same key (Go: ambiguous key)', () => {
      expectNoteError(() => openNote(utf8(`${text}\n${enochLine}`), [enochKey, parseVerifierKey(str(enoch, 'vkey'))]), 'ambiguous_key');
    });

    it(`reads at most ${MAX_NOTE_SIGNATURES} signature lines (Go refuses 101)`, () => {
      const unknownLine = `\u2014 someone AAAAAAAA\n`;
      expect(openNote(utf8(`${text}\n${peterLine}${unknownLine.repeat(MAX_NOTE_SIGNATURES - 1)}`), [peterKey]).signatures).to.have.length(1);
      expectNoteError(() => openNote(utf8(`${text}\n${peterLine}${unknownLine.repeat(MAX_NOTE_SIGNATURES)}`), [peterKey]), 'too_many_signatures');
      expect(MAX_NOTE_SIGNATURES).to.be.at.least(16);
    });

    // go_malformed_notes, in order, then further cases of the same rules.
    const malformed: Array<[string, Buffer]> = [
      ['text only (no blank line, no signatures)', utf8(text)],
      ['text and a blank line but no signature', utf8(`${text}\n`)],
      ['signature line missing its final newline', utf8(`${text}\n${peterLine.slice(0, -1)}`)],
      ['leading 0x01 control byte', utf8(`\u0001${text}\n${peterLine}`)],
      ['leading 0xff (invalid UTF-8)', Buffer.concat([Buffer.of(0xff), utf8(`${text}\n${peterLine}`)])],
      ['key name containing a space', utf8(`${text}\n${peterLine.replace('PeterNeumann', 'Bad Name')}`)],
      ['trailing non-signature line after the signatures', utf8(`${text}\n${peterLine}${enochLine}not a signature\n`)],
      ['signature line with a hyphen instead of the em dash', utf8(`${text}\n${peterLine.replace('\u2014', '-')}`)],
      ['signature line with two spaces after the em dash', utf8(`${text}\n${peterLine.replace('\u2014 ', '\u2014  ')}`)],
      ['signature line without a signature', utf8(`${text}\n\u2014 PeterNeumann\n`)],
      ['signature of only a key ID', utf8(`${text}\n\u2014 PeterNeumann x08gow==\n`)],
      ['signature in URL-safe base64', utf8(`${text}\n${peterLine.replace('/', '_')}`)],
      ['signature without its base64 padding', utf8(`${text}\n${peterLine.replace('=\n', '\n')}`)],
      ['carriage return line endings', utf8(`${text}\n${peterLine.replace('\n', '\r\n')}`)],
      ['truncated UTF-8 in the em dash', Buffer.concat([utf8(`${text}\n`), Buffer.of(0xe2, 0x80), utf8(peterLine.slice(1))])],
    ];
    for (const [desc, note] of malformed) {
      it(`refuses a malformed note: ${desc}`, () => expectNoteError(() => openNote(note, [peterKey, enochKey]), 'malformed_note'));
    }

    it('refuses every proper substring and every one-byte increment of a good verifier key (Go\'s bad vkeys)', () => {
      const good = str(peter, 'vkey');
      const bad = new Set<string>();
      for (let start = 0; start < good.length; start++) {
        for (let end = start; end <= good.length; end++) if (end - start < good.length) bad.add(good.slice(start, end));
      }
      for (let i = 0; i < good.length; i++) bad.add(good.slice(0, i) + String.fromCharCode(good.charCodeAt(i) + 1) + good.slice(i + 1));
      for (const vkey of bad) expectNoteError(() => parseVerifierKey(vkey), 'malformed_key');
      // The first two entries describe the families above; the others are keys, then a comment.
      for (const line of strings(vectors, 'go_bad_vkeys').slice(2)) expectNoteError(() => parseVerifierKey(line.split(' ')[0]), 'malformed_key');
    });

    it('refuses malformed signer keys', () => {
      const good = str(peter, 'skey');
      for (const skey of [good.replace('PRIVATE+KEY+', ''), good.replace('c74f20a3', 'c74f20a4'), good.replace('+AYEK', '+AoEK'), `${good}AAAA`]) {
        expectNoteError(() => parseSignerKey(skey), 'malformed_key');
      }
    });

    it('opens the C2SP checkpoint example\'s structure: log signature and witness cosignature', () => {
      const example = asObject(vectors.checkpoint_example, 'checkpoint_example');
      // The example's keys are not published, so a stand-in verifier for the log's key ID records what it is asked.
      const asked: Array<{ text: string; length: number }> = [];
      const logKey: NoteVerifier = {
        name: 'example.com/behind-the-sofa',
        keyId: 0x033de0ae,
        verify: (signedText, signature) => asked.push({ text: Buffer.from(signedText).toString('utf8'), length: signature.length }) > 0,
      };
      const opened = openNote(utf8(str(example, 'note')), [logKey]);
      expect(asked).to.deep.equal([{ text: 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n', length: 64 }]);
      const [cosignature] = opened.unverifiedSignatures;
      expect([cosignature.name, cosignature.keyId, cosignature.signature.length]).to.deep.equal(['witness.example.com/w1', 0x8d66cf3f, 72]);
      expect(cosignature.signature.readBigUInt64BE(0)).to.equal(1679315147n);
      const checkpoint = parseCheckpoint(opened.text);
      expect([checkpoint.origin, checkpoint.size, checkpoint.rootHash.length]).to.deep.equal(['example.com/behind-the-sofa', 20852163n, 32]);
    });
  });
});
