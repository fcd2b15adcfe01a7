/**
 * The crash case of the storage contract, for any engine: a process SIGKILLed with a batch open (crashChild.ts)
 * leaves nothing of the batch visible, the store undamaged, and the next batch commits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { writeBatch } from './batches.js';
import type { StoreFactory } from './contract.js';

/** Resolves once the child has written `line` on its stdout; rejects if it exits first. */
function untilLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.split('\n').includes(line)) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before writing "${line}": ${errors}`)));
  });
}

/** What an engine checks of its own around the crash (SQLite: its batch staging files). */
export interface CrashChecks {
  /** While the child's batch is open, before the kill. */
  whileBatchOpen?(): Promise<void>;
  /** Right after the store is opened again. */
  afterReopen?(): void;
}

/**
 * `opener` is the URL of a module exporting StoreOpener for the engine; `location` says where the store `create`
 * made last is (a file, a database URL), for the child to open.
 */
export function crashContract(engine: string, factory: StoreFactory, opener: URL, location: () => string, checks: CrashChecks = {}): void {
  describe(`storage contract, crash: ${engine}`, function () {
    it('leaves nothing of a batch open in a killed process visible after a reopen, and the next batch commits', async function () {
      await (await factory.create()).close();
      const child = spawn(process.execPath, [fileURLToPath(new URL('./crashChild.js', import.meta.url)), opener.href, location()]);
      const exited = once(child, 'exit');
      try {
        try {
          await untilLine(child, 'added');
          await checks.whileBatchOpen?.();
        } finally {
          // Killed whatever happened above: a child left holding its batch open would keep mocha from ever exiting.
          child.kill('SIGKILL');
        }
        expect((await exited)[1]).to.equal('SIGKILL');
        const store = await factory.reopen();
        try {
          checks.afterReopen?.();
          expect(await store.countRecords()).to.equal(0);
          expect(await store.listBatches(10)).to.deep.equal([]);
          expect(await store.integrityProblems()).to.deep.equal([]);
          expect((await writeBatch(store, 'after-crash', '2026-01-31', ['k1', 'k2'])).outcome).to.equal('stored');
          expect(await store.countRecords()).to.equal(2);
        } finally {
          await store.close();
        }
      } finally {
        await factory.dispose();
      }
    });
  });
}
