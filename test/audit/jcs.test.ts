// Pins the canonical JSON of audit entries (RFC 8785, JCS): the cyberphone/json-canonicalization vectors
// (../shared/vectors/jcs-cyberphone/testdata, input/*.json → output/*.json bytes) through the `canonicalize` package
// and, where the input is an object of safe integers, through entryBytes; then the cases that set has none of:
// numbers entryBytes refuses, lone surrogates, and duplicate members.
import fs from 'node:fs';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { expect } from 'chai';
import { entryBytes } from '../../gateway/audit/index.js';
import type { AuditEvent, JsonValue } from '../../gateway/audit/index.js';
import { readEntryBytes } from '../../gateway/audit/entryCheck.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { describeVectors } from '../support/vectors.js';

const AT = '2025-01-31T08:00:00.000Z';
const event = (details: Readonly<Record<string, JsonValue>>): AuditEvent => ({ kind: 'audit.read', actor: 'auditor-1', details });
/** The members entryBytes adds to an event's details, as JCS writes them. */
const OWN_MEMBERS = ['"actor":"auditor-1"', `"at":"${AT}"`, '"kind":"audit.read"', '"v":1'];

/** The entry's bytes without the members entryBytes adds: what JCS makes of the details alone. */
function withoutOwnMembers(bytes: Buffer): string {
  let text = bytes.toString('utf8');
  for (const member of OWN_MEMBERS) {
    const before = text;
    text = text.replace(`,${member}`, '').replace(`${member},`, '');
    expect(text, member).to.not.equal(before);
  }
  return text;
}

describe('audit entries as RFC 8785 canonical JSON', () => {
  describeVectors('jcs-cyberphone/testdata', 'cyberphone/json-canonicalization testdata', (dir) => {
    const names = fs.readdirSync(path.join(dir, 'input')).filter((name) => name.endsWith('.json')).sort();

    it('has the six cases the README lists', () => {
      expect(names).to.deep.equal(['arrays.json', 'french.json', 'structures.json', 'unicode.json', 'values.json', 'weird.json']);
    });

    for (const name of names) {
      const input: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'input', name), 'utf8'));
      const expected = fs.readFileSync(path.join(dir, 'output', name));
      const details = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, JsonValue>) : undefined;

      it(`${name}: canonicalize gives the expected bytes, and readEntryBytes takes them back only when they are an entry's`, () => {
        expect(Buffer.from(canonicalize(input) ?? '', 'utf8').equals(expected)).to.equal(true);
        const reading = readEntryBytes(expected);
        // values.json holds fractions and 1e30, arrays.json is not an object: neither could be an audit entry.
        if (name === 'values.json' || name === 'arrays.json') expect(reading).to.have.property('problem');
        else expect(reading).to.have.property('entry');
      });

      if (details !== undefined && name !== 'values.json') {
        it(`${name}: entryBytes writes the same bytes for the members, with its own sorted in`, () => {
          const bytes = entryBytes(event(details), AT);
          expect(withoutOwnMembers(bytes)).to.equal(expected.toString('utf8'));
          expect(readEntryBytes(bytes)).to.have.property('entry');
        });
      }
    }

    it('values.json: entryBytes refuses its fractions and its 1e30', () => {
      const input = JSON.parse(fs.readFileSync(path.join(dir, 'input', 'values.json'), 'utf8')) as Record<string, JsonValue>;
      expect(() => entryBytes(event(input), AT)).to.throw(GatewayError, 'safe integer');
    });
  });

  describe('numbers: safe integers only', () => {
    const refused: Array<[string, number]> = [
      ['NaN', Number.NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['a fraction', 0.5], ['2^53', 2 ** 53],
      ['-(2^53)', -(2 ** 53)], ['1e30', 1e30],
    ];
    for (const [what, value] of refused) {
      it(`entryBytes refuses ${what}, also inside arrays and objects`, () => {
        for (const details of [{ x: value }, { x: [1, value] }, { x: { y: { z: value } } }]) {
          expect(() => entryBytes(event(details), AT)).to.throw(GatewayError, 'safe integer').with.property('code', 'internal_error');
        }
      });
    }

    it('entryBytes takes ±(2^53 − 1) and -0 (written 0)', () => {
      const text = entryBytes(event({ max: Number.MAX_SAFE_INTEGER, min: Number.MIN_SAFE_INTEGER, zero: -0 }), AT).toString('utf8');
      expect(text).to.include('"max":9007199254740991').and.include('"min":-9007199254740991').and.include('"zero":0');
    });

    it('readEntryBytes refuses an integer beyond 2^53, which JSON.parse would round', () => {
      expect(readEntryBytes(Buffer.from('{"n":9007199254740993}'))).to.deep.equal({ problem: 'holds the number 9007199254740992, not a safe integer' });
      expect(readEntryBytes(Buffer.from('{"n":0.5}'))).to.have.property('problem');
      expect(readEntryBytes(Buffer.from('{"n":-0}'))).to.deep.equal({ problem: 'is not in RFC 8785 canonical form' });
    });
  });

  describe('strings: no lone surrogates', () => {
    for (const [what, value] of [['a lone high surrogate', 'a\ud800b'], ['a lone low surrogate', '\udc00'], ['a reversed pair', '\ude00\ud83d']]) {
      it(`canonicalize refuses ${what}, as a value and as a member name, so entryBytes does too`, () => {
        expect(() => canonicalize({ x: value })).to.throw('Lone surrogate');
        expect(() => canonicalize({ [value as string]: 1 })).to.throw('Lone surrogate');
        expect(() => entryBytes(event({ x: value as string }), AT)).to.throw('not well-formed Unicode');
        expect(() => entryBytes(event({ [value as string]: 1 }), AT)).to.throw('not well-formed Unicode');
      });
    }

    it('canonicalize keeps a surrogate pair (U+1F602) as its UTF-8 bytes', () => {
      expect(Buffer.from(canonicalize({ x: '\ud83d\ude02' }) ?? '', 'utf8').toString('hex')).to.equal('7b2278223a22f09f9882227d');
    });

    it('readEntryBytes refuses bytes that are not UTF-8, and a byte order mark', () => {
      expect(readEntryBytes(Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]))).to.deep.equal({ problem: 'is not valid UTF-8' });
      expect(readEntryBytes(Buffer.from('\ufeff{"a":1}', 'utf8'))).to.have.property('problem');
    });
  });

  describe('duplicate members', () => {
    it('JSON.parse keeps the last; canonicalize then writes one member, so re-canonicalising exposes the duplicate', () => {
      const text = '{"a":1,"b":2,"a":3}';
      expect(JSON.parse(text)).to.deep.equal({ a: 3, b: 2 });
      expect(canonicalize(JSON.parse(text))).to.equal('{"a":3,"b":2}');
      expect(readEntryBytes(Buffer.from(text))).to.deep.equal({ problem: 'is not in RFC 8785 canonical form' });
      // Even sorted, with the duplicates next to each other, the bytes differ from the one-member form.
      expect(readEntryBytes(Buffer.from('{"a":1,"a":1}'))).to.deep.equal({ problem: 'is not in RFC 8785 canonical form' });
    });

    it('cannot arise in an entry: entryBytes builds from an object, and refuses details named like entry members', () => {
      for (const name of ['v', 'kind', 'at', 'actor', 'subject', 'consent_id']) {
        expect(() => entryBytes(event({ [name]: 'x' }), AT), name).to.throw('would shadow an entry member');
      }
      const text = entryBytes(event({ other: 'x' }), AT).toString('utf8');
      expect(text.match(/"kind":/g)).to.have.length(1);
    });
  });

  describe('the fast path', () => {
    it('writes exactly what canonicalize writes, integer-like member names included', () => {
      const details = {
        z: 1, a: [{ y: true, b: null }, 'é', '\u2028', '😀', '"\\\n'], '10': 1, '9': 2, 'b10': { '2': 'x', '1': 'y' }, Z: -0, big: 9007199254740991,
      };
      const bytes = entryBytes(event(details), AT).toString('utf8');
      expect(bytes).to.equal(canonicalize(JSON.parse(bytes)));
      const plain = entryBytes(event({ z: 1, a: [{ y: true, b: null }, 'é', '\u2028', '😀'], m: { k: 'v', c: -7 } }), AT).toString('utf8');
      expect(plain).to.equal(canonicalize(JSON.parse(plain)));
    });
  });
});
