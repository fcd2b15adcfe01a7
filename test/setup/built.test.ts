// Pins when `npm start` and `npm test` compile: only when a source's text differs from what dist/.tsbuildinfo (or, for
// the portal, dist/portal/build-info.json) says was compiled (a file touched but unchanged is current), an output is
// missing, or the last build was not clean.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../gateway/paths.js';
import { staleness } from '../../gateway/setup/built.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const PORTAL_SOURCE = 'export const portal = 1;\n';

describe('dist/ staleness (gateway/setup/built.ts)', function () {
  let root: string;
  const sources: Record<string, string> = { 'gateway/a.ts': 'export const a = 1;\n', 'test/b.test.ts': 'export const b = 2;\n' };

  function writeBuildInfo(extra: Record<string, unknown> = {}): void {
    const names = Object.keys(sources);
    fs.writeFileSync(path.join(root, 'dist', '.tsbuildinfo'), JSON.stringify({
      fileNames: ['../node_modules/typescript/lib/lib.es2023.d.ts', ...names.map((name) => `../${name}`)],
      fileInfos: ['0123', ...names.map((name) => ({ version: sha256(sources[name] as string), impliedFormat: 99 }))],
      version: '5.9.3',
      ...extra,
    }));
  }

  beforeEach(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-built-'));
    for (const [name, text] of Object.entries(sources)) {
      fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
      fs.writeFileSync(path.join(root, name), text);
      fs.mkdirSync(path.dirname(path.join(root, 'dist', name)), { recursive: true });
      fs.writeFileSync(path.join(root, 'dist', name.replace(/\.ts$/, '.js')), '// compiled\n');
    }
    writeBuildInfo();
    // The portal's web sources and the hashes its bundle was built from (gateway/portal/build.ts).
    fs.mkdirSync(path.join(root, 'gateway/portal/web'), { recursive: true });
    fs.writeFileSync(path.join(root, 'gateway/portal/web/app.tsx'), PORTAL_SOURCE);
    fs.mkdirSync(path.join(root, 'dist/portal'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dist/portal/build-info.json'), JSON.stringify({ sources: { 'gateway/portal/web/app.tsx': sha256(PORTAL_SOURCE) } }));
  });

  afterEach(function () {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('is current right after a build, and after a source is touched without a change', function () {
    expect(staleness(root)).to.equal(undefined);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(root, 'gateway/a.ts'), later, later);
    expect(staleness(root)).to.equal(undefined);
  });

  it('is stale when a source\'s text changed, naming it', function () {
    fs.appendFileSync(path.join(root, 'test/b.test.ts'), 'export const c = 3;\n');
    expect(staleness(root)).to.equal('test/b.test.ts changed since the last build');
  });

  it('is stale for a new source the last build did not see', function () {
    fs.writeFileSync(path.join(root, 'gateway/new.ts'), 'export {};\n');
    expect(staleness(root)).to.equal('gateway/new.ts changed since the last build');
  });

  it('is stale when a portal source changed since the portal was bundled, or it was never bundled', function () {
    expect(staleness(root)).to.equal(undefined);
    fs.appendFileSync(path.join(root, 'gateway/portal/web/app.tsx'), '// changed\n');
    expect(staleness(root)).to.equal('gateway/portal/web/app.tsx changed since the portal was built');
    fs.rmSync(path.join(root, 'dist/portal'), { recursive: true });
    expect(staleness(root)).to.equal('the portal was not built');
  });

  it('is stale when an output is missing', function () {
    fs.rmSync(path.join(root, 'dist/gateway/a.js'));
    expect(staleness(root)).to.equal('gateway/a.ts has no compiled output');
  });

  it('is stale without build info, or after a build that had errors', function () {
    writeBuildInfo({ errors: true });
    expect(staleness(root)).to.equal('the last build did not finish cleanly');
    fs.rmSync(path.join(root, 'dist/.tsbuildinfo'));
    expect(staleness(root)).to.equal('there is no complete earlier build');
  });

  it('is what npm start and npm test ask before compiling', function () {
    const { scripts } = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const check = '(node dist/gateway/setup/built.js 2>/dev/null || npm run build --silent) && ';
    expect(scripts['start']).to.equal(`${check}node dist/gateway/cli/main.js serve`);
    expect(scripts['test']).to.equal(`${check}mocha`);
    expect(scripts['prepare']).to.equal('npm run build');
  });
});
