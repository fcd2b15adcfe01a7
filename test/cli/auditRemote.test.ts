// Pins `gateway audit verify-remote` as an auditor runs it: from outside any gateway home, with only its own key,
// certificate and the log's verifier key, against a running gateway: the first run saves a checkpoint, the next one
// checks that the log still contains it; a saved checkpoint of another tree fails with exit 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { formatCheckpoint } from '../../gateway/audit/checkpoint.js';
import { signNote } from '../../gateway/crypto/note.js';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { json, runCli, succeeded } from '../support/cli.js';
import type { Run } from '../support/cli.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const AUDITOR = 'auditor-remote';

interface RemoteJson {
  readonly ok: boolean;
  readonly latest_checkpoint: { tree_size: number; root_hash: string };
  readonly checked_entries: number;
  readonly recomputed_root: string;
  readonly saved_checkpoint: { tree_size: number; root_hash: string; contained: boolean } | null;
  readonly consistency_proof_checked: { first: number; second: number } | null;
  readonly inclusion_proof_checked: number | null;
  readonly problems: ReadonlyArray<{ kind: string; detail: string }>;
}

describe('gateway audit verify-remote (CLI)', function () {
  this.timeout(300_000);
  let root: string;
  let runtime: Runtime;
  let running: RunningServer;
  /** The auditor's own folder: its key, certificate and saved checkpoint, and no gateway home. */
  let desk: string;
  let auditorArgs: string[];

  before(async function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-audit-remote-'));
    desk = path.join(root, 'auditor');
    fs.mkdirSync(desk);
    const config = testConfig(root, { HOST: '127.0.0.1', PORT: '0', GATEWAY_INGEST_WORKERS: '1', GATEWAY_CHECKPOINT_INTERVAL_MS: '100' });
    await prepareTestKeys(config);
    runtime = (await openRuntime(config));
    running = await startServer(runtime, createLogger('silent'), createMetrics());
    succeeded(await runCli(root, ['participants', 'add', '--role', 'auditor', '--name', 'City audit office', '--id', AUDITOR, '--generate']));
    for (const suffix of ['key', 'cert']) fs.copyFileSync(path.join(config.keysDir, 'participants', `${AUDITOR}.${suffix}.pem`), path.join(desk, `${suffix}.pem`));
    for (let n = 0; n < 20; n++) await runtime.audit.log.append({ kind: 'audit.read', actor: 'someone', details: { n } });
    auditorArgs = ['--as', AUDITOR, '--key', path.join(desk, 'key.pem'), '--cert', path.join(desk, 'cert.pem'), '--url', running.url];
  });

  after(async function () {
    await running?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  // Outside the gateway's home: the data and keys directories the auditor is given do not exist.
  const remote = (args: readonly string[]) => runCli(path.join(root, 'nowhere'), ['audit', 'verify-remote', ...auditorArgs, ...args]);

  let first: Run;

  before(async function () {
    first = await remote(['--save-checkpoint', path.join(desk, 'checkpoint.txt')]);
  });

  it('checks the log and saves the latest checkpoint; says the verifier key was the gateway\'s to pin', function () {
    const run = succeeded(first);
    expect(run.stdout).to.match(/^audit log OK: \d+ entries read over the audit API\n/);
    expect(run.stdout).to.include(`--verifier-key ${runtime.audit.noteKey.verifierKey}`);
    expect(fs.readFileSync(path.join(desk, 'checkpoint.txt'), 'utf8')).to.match(/^credit-gateway\.local\/audit\n\d+\n/);
    expect(fs.existsSync(path.join(root, 'nowhere'))).to.equal(false);
  });

  it('next time, finds the saved checkpoint contained in the grown log, by recomputation and a consistency proof', async function () {
    const saved = Number(fs.readFileSync(path.join(desk, 'checkpoint.txt'), 'utf8').split('\n')[1]);
    for (let n = 0; n < 5; n++) await runtime.audit.log.append({ kind: 'audit.read', actor: 'someone', details: { n } });
    const result = json<RemoteJson>(succeeded(await remote(['--checkpoint', path.join(desk, 'checkpoint.txt'), '--verifier-key', runtime.audit.noteKey.verifierKey, '--json'])));
    expect(result.ok).to.equal(true);
    expect(result.saved_checkpoint).to.include({ tree_size: saved, contained: true });
    expect(result.latest_checkpoint.tree_size).to.be.greaterThan(saved);
    expect(result.consistency_proof_checked).to.deep.equal({ first: saved, second: result.latest_checkpoint.tree_size });
    expect(result.inclusion_proof_checked).to.equal(result.latest_checkpoint.tree_size - 1);
    expect(result.recomputed_root).to.equal(result.latest_checkpoint.root_hash);
    expect(result.checked_entries).to.equal(result.latest_checkpoint.tree_size);
  });

  it('exits 1 against a saved checkpoint of another tree of the same size (a fork), naming the problem', async function () {
    const { noteKey, log } = runtime.audit;
    fs.writeFileSync(path.join(desk, 'fork.txt'), signNote(formatCheckpoint({ origin: noteKey.origin, size: 10n, rootHash: await log.rootAt(11) }), noteKey.signer));
    const run = await remote(['--checkpoint', path.join(desk, 'fork.txt'), '--save-checkpoint', path.join(desk, 'not-saved.txt')]);
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stdout).to.match(/^audit log FAILED\n- inconsistent_with_saved_checkpoint at index 0: /);
    expect(run.stdout).to.include('- bad_consistency_proof');
    expect(run.stdout).to.include('saved checkpoint (tree size 10)').and.include('which the log no longer contains');
    expect(fs.existsSync(path.join(desk, 'not-saved.txt'))).to.equal(false);
  });
});
