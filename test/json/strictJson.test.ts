// Pins the repeated-member-name check: a name repeated in any object, however it is escaped, is found; names that
// merely look alike (in strings, in other objects, in arrays) are not; and the text JSON.parse refuses is refused first.
import { expect } from 'chai';
import { parseJson, parseJsonObject, repeatedMemberName } from '../../gateway/json/index.js';

describe('repeatedMemberName', function () {
  const repeated: ReadonlyArray<readonly [string, string, string]> = [
    ['a top-level member', '{"a":1,"b":2,"a":3}', 'a'],
    ['an escaped spelling of the same name', '{"uscc":"x","\\u0075scc":"y"}', 'uscc'],
    ['a name inside a nested object', '{"items":[{"subject":{"uscc":"1","uscc":"2"}}]}', 'uscc'],
    ['a name after a nested value', '{"a":{"b":[1,{"c":2}]},"a":0}', 'a'],
    ['an empty name', '{"":1,"":2}', ''],
  ];
  for (const [why, text, name] of repeated) {
    it(`finds ${why}`, function () {
      expect(repeatedMemberName(text)).to.equal(name);
    });
  }

  const distinct: ReadonlyArray<readonly [string, string]> = [
    ['the same name in sibling objects', '[{"a":1},{"a":2}]'],
    ['the same name at different depths', '{"a":{"a":1}}'],
    ['a name that appears as a value', '{"a":"a","b":"a"}'],
    ['braces, commas and quotes inside strings', '{"a":"{\\"a\\":1,","b":"}]["}'],
    ['strings in arrays after a comma', '{"a":["a","a"]}'],
  ];
  for (const [why, text] of distinct) {
    it(`finds nothing for ${why}`, function () {
      expect(repeatedMemberName(text)).to.equal(undefined);
    });
  }
});

describe('parseJsonObject', function () {
  it('parses an object', function () {
    expect(parseJsonObject('{"a":[1,2],"b":{"c":null}}')).to.deep.equal({ ok: true, value: { a: [1, 2], b: { c: null } } });
  });

  it('refuses a repeated name with the name, not the values', function () {
    const parsed = parseJsonObject('{"officer":"Alice","officer":"Mallory"}');
    expect(parsed).to.deep.equal({ ok: false, reason: 'has the member "officer" twice' });
  });

  for (const [why, text] of [['invalid JSON', '{"a":'], ['an array', '[1]'], ['a string', '"x"'], ['null', 'null']] as const) {
    it(`refuses ${why}`, function () {
      expect(parseJsonObject(text).ok).to.equal(false);
    });
  }

  it('leaves scalars to parseJson', function () {
    expect(parseJson('42')).to.deep.equal({ ok: true, value: 42 });
  });
});
