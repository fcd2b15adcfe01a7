// A process killed with SIGKILL in the middle of a batch leaves the batch wholly absent, never half there; one
// killed after commit leaves it wholly present.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRuntime } from '../../gateway/runtime/index.js';
import { testConfig } from '../support/runtime.js';

const CHILD = fileURLToPath(new URL('./ingestChild.js', import.meta.url));
const ROWS = 60_000;

/** Runs the child until `killWhen` says so for a line of its output, then SIGKILLs it. */
function runAndKill(dir: string, killWhen: (line: string) => boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(ROWS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let buffered = '';
    child.stdout.on('data', (data: Buffer) => {
      buffered += data.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (killWhen(line)) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', () => resolve(lines));
  });
}

async function countAfterRestart(dir: string): Promise<{ records: number; batches: number }> {
  const config = testConfig(dir);
  const runtime = (await openRuntime(config));
  try {
    return { records: await runtime.store.countRecords(), batches: (await runtime.store.listBatches(10)).length };
  } finally {
    void runtime.close();
  }
}

describe('crash safety of ingestion', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-crash-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('leaves nothing of a batch killed half-way', async () => {
    const lines = await runAndKill(dir, (line) => line === `progress ${ROWS / 2}`);
    expect(lines).to.include(`progress ${ROWS / 2}`);
    expect(lines).not.to.include('committed');
    expect(await countAfterRestart(dir)).to.deep.equal({ records: 0, batches: 0 });
  });

  it('keeps all of a batch killed right after it committed', async () => {
    const lines = await runAndKill(dir, (line) => line === 'committed');
    expect(lines).to.include('committed');
    expect(await countAfterRestart(dir)).to.deep.equal({ records: ROWS, batches: 1 });
  });

  for (const fraction of [0.1, 0.9, 1]) {
    it(`finds the batch all there or all absent when killed at ${fraction * 100}% of reading`, async () => {
      await runAndKill(dir, (line) => line === `progress ${ROWS * fraction}`);
      const { records, batches } = (await countAfterRestart(dir));
      const wholeOrNothing = (records === 0 && batches === 0) || (records === ROWS && batches === 1);
      expect(wholeOrNothing, `${records} records in ${batches} batches`).to.equal(true);
    });
  }
});
