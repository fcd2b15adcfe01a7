// Pins where the gateway's home is: GATEWAY_DATA_DIR and GATEWAY_KEYS_DIR, else the data/ and keys/ of the project
// directory found by walking up from the working directory; outside of one, a command refuses instead of making a
// second, empty gateway where it stands. And keys/ and data/ are git-ignored wherever they appear.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { findProjectRoot, loadConfig } from '../../gateway/config/index.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { packageRoot } from '../../gateway/paths.js';
import { CLI } from '../support/cli.js';

function refusal(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('the configuration was accepted');
}

describe('the gateway\'s home', function () {
  let outside: string;

  before(function () {
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-home-'));
  });

  after(function () {
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('is the project directory\'s data/ and keys/ from any folder inside it', function () {
    for (const cwd of [packageRoot, path.join(packageRoot, 'docs'), path.join(packageRoot, 'gateway', 'cli')]) {
      const config = loadConfig({}, cwd);
      expect(config.dataDir, cwd).to.equal(path.join(packageRoot, 'data'));
      expect(config.keysDir, cwd).to.equal(path.join(packageRoot, 'keys'));
    }
  });

  it('is found by the package name in package.json, so that a copy of the project elsewhere is its own home', function () {
    const copy = path.join(outside, 'copy');
    fs.mkdirSync(path.join(copy, 'docs'), { recursive: true });
    fs.copyFileSync(path.join(packageRoot, 'package.json'), path.join(copy, 'package.json'));
    expect(findProjectRoot(path.join(copy, 'docs'))).to.equal(copy);
    expect(loadConfig({}, path.join(copy, 'docs')).keysDir).to.equal(path.join(copy, 'keys'));
  });

  it('is GATEWAY_DATA_DIR and GATEWAY_KEYS_DIR when set, resolved against the working directory, anywhere', function () {
    const config = loadConfig({ GATEWAY_DATA_DIR: 'state', GATEWAY_KEYS_DIR: '/etc/gateway/keys' }, outside);
    expect(config.dataDir).to.equal(path.join(outside, 'state'));
    expect(config.keysDir).to.equal('/etc/gateway/keys');
  });

  it('takes one of them from the environment and the other from the project directory', function () {
    expect(loadConfig({ GATEWAY_KEYS_DIR: '/etc/gateway/keys' }, path.join(packageRoot, 'docs')).dataDir).to.equal(path.join(packageRoot, 'data'));
  });

  it('is refused with invalid_configuration outside a project directory, naming what to set', function () {
    expect(findProjectRoot(outside)).to.equal(undefined);
    const error = refusal(() => loadConfig({}, outside));
    expect(error.code).to.equal('invalid_configuration');
    expect(error.message).to.include(outside).and.include('GATEWAY_DATA_DIR and GATEWAY_KEYS_DIR');
    expect(refusal(() => loadConfig({ GATEWAY_DATA_DIR: 'data' }, outside)).message).to.include('set GATEWAY_KEYS_DIR');
  });

  it('so a command run outside one exits 1 and creates nothing where it stands', function () {
    this.timeout(180_000);
    const run = spawnSync(process.execPath, [CLI, 'participants', 'list'], { cwd: outside, env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8', timeout: 170_000 });
    expect(run.status, run.stderr).to.equal(1);
    expect(run.stderr).to.match(/^error \(invalid_configuration\): cannot tell where the gateway's home is/);
    expect(fs.readdirSync(outside).filter((name) => name !== 'copy')).to.deep.equal([]);
  });

  describe('in git', function () {
    before(function () {
      const inside = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: packageRoot, encoding: 'utf8' });
      // A release tarball has no repository to ask.
      if (inside.status !== 0) this.skip();
    });

    const ignored = (file: string) => spawnSync('git', ['check-ignore', '--no-index', '-q', file], { cwd: packageRoot }).status === 0;

    it('ignores keys/ and data/ wherever a gateway home was made', function () {
      for (const file of ['keys/ca.key.pem', 'keys/participants/dev-bank.key.pem', 'data/gateway.sqlite', 'docs/keys/ca.key.pem', 'docs/data/gateway.sqlite', 'test/cli/keys/x.pem']) {
        expect(ignored(file), file).to.equal(true);
      }
    });

    it('does not ignore keys/README.md nor the source folders named keys', function () {
      for (const file of ['keys/README.md', 'gateway/keys/index.ts', 'gateway/keys/another.ts', 'test/keys/another.test.ts']) {
        expect(ignored(file), file).to.equal(false);
      }
    });
  });
});
