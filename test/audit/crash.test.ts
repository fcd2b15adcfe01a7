// Pins the audit log's durability under SIGKILL: a child process appends bursts of entries (64 in flight, group
// committed) while checkpointing every 100 ms, and is killed early, mid-burst and after several checkpoints. On
// reopening, every acknowledged entry is there with its content, indexes run 0…size−1 without gaps, the root served
// from the stored hashes equals a root recomputed here from the entries alone (RFC 6962, nothing of the gateway's
// Merkle code), every stored checkpoint is signed, names a root the recomputation agrees with and is consistent with
// the tree, inclusion proofs for a sample verify, and the log goes on appending where it stopped.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseCheckpoint } from '../../gateway/audit/checkpoint.js';
import { verifyConsistency, verifyInclusion } from '../../gateway/audit/verify.js';
import { openNote, parseVerifierKey } from '../../gateway/crypto/note.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const CHILD = fileURLToPath(new URL('./crashChild.js', import.meta.url));
/** A child that is never killed is stopped after this long. */
const CHILD_TIMEOUT_MS = 15_000;

interface Ack {
  readonly index: number;
  readonly n: number;
}

interface ChildRun {
  readonly acks: readonly Ack[];
  readonly signal: NodeJS.Signals | null;
}

/** Runs the child on `dir` and SIGKILLs it once it has acknowledged `killAfter` appends; collects every ack it printed. */
function runAndKill(dir: string, killAfter: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acks: Ack[] = [];
    let buffered = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.on('data', (data: Buffer) => {
      buffered += data.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^acked (\d+) (\d+)$/.exec(line);
        if (!match) continue;
        acks.push({ index: Number(match[1]), n: Number(match[2]) });
        if (acks.length === killAfter) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    // 'close', not 'exit': every line the child wrote before it died is read.
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      resolve({ acks, signal });
    });
  });
}

const sha256 = (...parts: Uint8Array[]) => parts.reduce((hash, part) => hash.update(part), createHash('sha256')).digest();
const leafOf = (entry: Uint8Array) => sha256(Uint8Array.of(0), entry);
const nodeOf = (left: Uint8Array, right: Uint8Array) => sha256(Uint8Array.of(1), left, right);

/**
 * RFC 6962 roots of the prefixes of `leaves` whose sizes are asked for, from the leaf hashes alone: the perfect
 * subtrees of the prefix, largest first, on a stack (two of equal height merge), folded from the right.
 */
function prefixRoots(leaves: readonly Buffer[], sizes: Iterable<number>): Map<number, Buffer> {
  const wanted = new Set(sizes);
  const roots = new Map<number, Buffer>();
  if (wanted.has(0)) roots.set(0, sha256());
  const stack: Array<{ hash: Buffer; height: number }> = [];
  leaves.forEach((leaf, offset) => {
    stack.push({ hash: leaf, height: 0 });
    while (stack.length >= 2 && stack[stack.length - 1]!.height === stack[stack.length - 2]!.height) {
      const right = stack.pop()!;
      const left = stack.pop()!;
      stack.push({ hash: nodeOf(left.hash, right.hash), height: left.height + 1 });
    }
    if (wanted.has(offset + 1)) {
      const lower = stack.slice(0, -1);
      roots.set(offset + 1, lower.reduceRight((acc, subtree) => nodeOf(subtree.hash, acc), stack[stack.length - 1]!.hash));
    }
  });
  return roots;
}

/** A few indexes spread over [0, size), always the first and the last. */
function sample(size: number, extra: readonly number[]): number[] {
  const picked = new Set([0, size - 1, ...extra]);
  for (let k = 1; k < 24; k++) picked.add(Math.floor((size * k) / 24));
  return [...picked].filter((index) => index >= 0 && index < size).sort((a, b) => a - b);
}

async function checkRecoveredLog(runtime: Runtime, run: ChildRun): Promise<{ size: number; checkpoints: number }> {
  const { log, store, noteKey } = runtime.audit;
  const size = await log.size();
  expect(size).to.be.at.least(run.acks.length);
  const entries = await log.entries({ start: 0, end: size, limit: size + 1 });

  // Indexes 0…size−1 without gaps; every entry one of the child's, each append once.
  expect(entries.map((entry) => entry.index)).to.deep.equal(Array.from({ length: size }, (_, index) => index));
  const parsed = entries.map((entry) => JSON.parse(Buffer.from(entry.entry).toString('utf8')) as { kind: string; actor: string; n: number });
  for (const entry of parsed) expect(entry).to.include({ kind: 'audit.read', actor: 'crash-test' });
  expect(new Set(parsed.map((entry) => entry.n)).size).to.equal(size);

  // Every acknowledged append is there, at the index it was acknowledged with.
  for (const ack of run.acks) {
    expect(ack.index, `acknowledged index ${ack.index}`).to.be.below(size);
    expect(parsed[ack.index]!.n, `entry ${ack.index}`).to.equal(ack.n);
  }

  // The tree: stored hashes against a recomputation from the entries alone.
  const checkpoints = await store.checkpoints();
  const leaves = entries.map((entry) => leafOf(entry.entry));
  const roots = prefixRoots(leaves, [size, ...checkpoints.map((checkpoint) => checkpoint.treeSize)]);
  const root = roots.get(size)!;
  expect((await log.rootAt(size)).equals(root), 'root from the stored hashes').to.equal(true);

  // Every checkpoint: signed, of a size the tree reached, with the root of that size, consistent with the tree.
  const verifier = parseVerifierKey(noteKey.verifierKey);
  for (const stored of checkpoints) {
    expect(stored.treeSize).to.be.within(1, size);
    const expected = roots.get(stored.treeSize)!;
    expect(Buffer.from(stored.rootHash).equals(expected), `checkpoint at ${stored.treeSize}`).to.equal(true);
    const note = parseCheckpoint(openNote(Buffer.from(stored.note, 'utf8'), [verifier]).text);
    expect(note.size).to.equal(BigInt(stored.treeSize));
    expect(note.rootHash.equals(expected)).to.equal(true);
    verifyConsistency(BigInt(stored.treeSize), BigInt(size), await log.consistencyProof(stored.treeSize, size), expected, root);
  }

  // Inclusion proofs for a sample, the last acknowledged entry among them.
  const lastAcked = run.acks.reduce((last, ack) => Math.max(last, ack.index), -1);
  for (const index of sample(size, [lastAcked])) {
    verifyInclusion(BigInt(index), BigInt(size), leaves[index]!, await log.inclusionProof(index, size), root);
  }
  return { size, checkpoints: checkpoints.length };
}

describe('audit log after a crash (SIGKILL mid-burst)', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-audit-crash-'));
    await prepareTestKeys(testConfig(dir));
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const killPoints: ReadonlyArray<readonly [string, number, boolean]> = [
    ['early, after 10 acknowledged appends', 10, false],
    ['mid-burst, after 1000 acknowledged appends', 1000, false],
    ['after 4000 acknowledged appends, several checkpoints in', 4000, true],
  ];
  for (const [when, killAfter, expectCheckpoints] of killPoints) {
    it(`keeps every acknowledged entry and a tree that verifies when killed ${when}`, async function () {
      const run = await runAndKill(dir, killAfter);
      expect(run.signal, 'the child was killed, not finished').to.equal('SIGKILL');
      expect(run.acks.length).to.be.at.least(killAfter);

      const runtime = (await openRuntime(testConfig(dir)));
      try {
        const { size, checkpoints } = await checkRecoveredLog(runtime, run);
        if (expectCheckpoints) expect(checkpoints, 'checkpoints made before the kill').to.be.greaterThan(0);

        // The log goes on where it stopped, and its new tree extends the old one.
        const before = await runtime.audit.log.rootAt(size);
        const appended = await runtime.audit.log.append({ kind: 'audit.read', actor: 'after-crash', details: { n: -1 } });
        expect(appended.index).to.equal(size);
        verifyConsistency(BigInt(size), BigInt(size + 1), await runtime.audit.log.consistencyProof(size, size + 1), before, await runtime.audit.log.rootAt(size + 1));
      } finally {
        await runtime.close();
      }
    });
  }
});
