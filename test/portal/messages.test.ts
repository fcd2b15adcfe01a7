// Pins the portal's message files: Chinese and English say the same things (the same keys, none empty), and every
// key the pages name literally is in them, so that no page shows a bare key in either language.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../gateway/paths.js';

const WEB = path.join(packageRoot, 'gateway', 'portal', 'web');
const read = (locale: string) => JSON.parse(fs.readFileSync(path.join(WEB, 'messages', `${locale}.json`), 'utf8')) as Record<string, string>;

describe('the portal\'s messages (gateway/portal/web/messages)', function () {
  const zh = read('zh-CN');
  const en = read('en');

  it('has the same keys in Chinese and English, none of them empty', function () {
    expect(Object.keys(en).sort()).to.deep.equal(Object.keys(zh).sort());
    for (const [key, text] of [...Object.entries(zh), ...Object.entries(en)]) expect(text.trim(), key).to.not.equal('');
  });

  it('has every key the pages name literally, with the same placeholders in both languages', function () {
    const source = fs.readFileSync(path.join(WEB, 'app.tsx'), 'utf8');
    const named = new Set([...source.matchAll(/\bt\('([a-zA-Z.]+)'/g)].map((match) => match[1] as string));
    expect(named.size).to.be.greaterThan(40);
    for (const key of named) expect(zh, key).to.have.property(key);
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
    for (const key of Object.keys(zh)) expect(placeholders(en[key] as string), key).to.deep.equal(placeholders(zh[key] as string));
  });
});
