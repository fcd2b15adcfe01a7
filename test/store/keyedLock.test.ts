// Pins the per-key lock that orders changes to a consent and answers under it (gateway/consent/keyedLock.ts): work
// on one key runs one at a time in arrival order, work on different keys runs concurrently, values and rejections
// pass through, a key is released when its work throws (asynchronously or synchronously), and runAll holds several
// keys at once without deadlocking callers that name overlapping keys in opposite orders.
import { expect } from 'chai';
import { createKeyedLock } from '../../gateway/store/keyedLock.js';
import type { KeyedLock } from '../../gateway/store/keyedLock.js';

/** Fails fast instead of letting mocha's timeout report a deadlock. */
const DEADLOCK_MS = 2_000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function withinDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${DEADLOCK_MS} ms (deadlock?)`)), DEADLOCK_MS);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('consent/keyedLock', function () {
  let lock: KeyedLock;

  beforeEach(function () {
    lock = createKeyedLock();
  });

  describe('run(key, work)', function () {
    it('runs work on one key one at a time, in arrival order, even when later work is quicker', async function () {
      const events: string[] = [];
      const job = (name: string, ms: number) => lock.run('consent-a', async () => {
        events.push(`start ${name}`);
        await delay(ms);
        events.push(`end ${name}`);
        return name;
      });
      const results = await withinDeadline(Promise.all([job('first', 40), job('second', 10), job('third', 0)]), 'three jobs on one key');
      expect(results).to.deep.equal(['first', 'second', 'third']);
      expect(events).to.deep.equal(['start first', 'end first', 'start second', 'end second', 'start third', 'end third']);
    });

    it('never lets two pieces of work on one key overlap, under many interleaved arrivals', async function () {
      let inside = 0;
      let most = 0;
      const order: number[] = [];
      const random = randomFrom(1);
      const jobs = Array.from({ length: 40 }, (_, n) => lock.run('consent-a', async () => {
        inside++;
        most = Math.max(most, inside);
        order.push(n);
        await delay(Math.floor(random() * 3));
        inside--;
      }));
      await withinDeadline(Promise.all(jobs), '40 jobs on one key');
      expect(most).to.equal(1);
      expect(order).to.deep.equal(Array.from({ length: 40 }, (_, n) => n));
    });

    it('runs work on different keys concurrently', async function () {
      // Each piece of work waits for the other to have started: only concurrent execution lets both finish.
      const aStarted = deferred();
      const bStarted = deferred();
      const a = lock.run('consent-a', async () => {
        aStarted.resolve();
        await bStarted.promise;
        return 'a';
      });
      const b = lock.run('consent-b', async () => {
        bStarted.resolve();
        await aStarted.promise;
        return 'b';
      });
      expect(await withinDeadline(Promise.all([a, b]), 'work on two keys')).to.deep.equal(['a', 'b']);
    });

    it('does not hold up another key while one key is busy', async function () {
      const release = deferred();
      const busy = lock.run('consent-a', () => release.promise);
      const other = await withinDeadline(lock.run('consent-b', async () => 'done'), 'work on a free key');
      expect(other).to.equal('done');
      release.resolve();
      await busy;
    });

    it('passes on the work\'s value and its rejection', async function () {
      expect(await lock.run('consent-a', async () => 42)).to.equal(42);
      const failure = new Error('refused');
      let caught: unknown;
      try {
        await lock.run('consent-a', async () => {
          throw failure;
        });
      } catch (error) {
        caught = error;
      }
      expect(caught).to.equal(failure);
    });

    it('releases the key when the work rejects, so the next work on it runs', async function () {
      const failing = lock.run('consent-a', async () => {
        await delay(5);
        throw new Error('refused');
      });
      const next = lock.run('consent-a', async () => 'ran');
      await failing.then(() => expect.fail('the first work should reject'), () => undefined);
      expect(await withinDeadline(next, 'work after a rejection')).to.equal('ran');
    });

    it('releases the key when the work throws synchronously', async function () {
      const throwing = (): Promise<string> => {
        throw new Error('thrown before any promise');
      };
      await lock.run('consent-a', throwing).then(() => expect.fail('the work should throw'), () => undefined);
      expect(await withinDeadline(lock.run('consent-a', async () => 'ran'), 'work after a synchronous throw')).to.equal('ran');
    });

    it('frees a key once all its work is done: later work starts at once', async function () {
      await lock.run('consent-a', async () => delay(5));
      const started = Date.now();
      await withinDeadline(lock.run('consent-a', async () => undefined), 'work on a released key');
      expect(Date.now() - started).to.be.below(50);
    });
  });

  describe('runAll(keys, work)', function () {
    it('holds every key: work on any of them waits until it is done', async function () {
      const events: string[] = [];
      const release = deferred();
      const all = lock.runAll(['consent-a', 'consent-b'], async () => {
        events.push('all start');
        await release.promise;
        events.push('all end');
      });
      await delay(5);
      const onA = lock.run('consent-a', async () => { events.push('a'); });
      const onB = lock.run('consent-b', async () => { events.push('b'); });
      const onC = lock.run('consent-c', async () => { events.push('c'); });
      await withinDeadline(onC, 'work on a key runAll does not hold');
      expect(events).to.deep.equal(['all start', 'c']);
      release.resolve();
      await withinDeadline(Promise.all([all, onA, onB]), 'work after runAll');
      expect(events.slice(0, 3)).to.deep.equal(['all start', 'c', 'all end']);
      expect(events.slice(3)).to.have.members(['a', 'b']);
    });

    it('does not deadlock two callers naming the same keys in opposite orders', async function () {
      const held: string[] = [];
      const first = lock.runAll(['consent-a', 'consent-b'], async () => {
        held.push('first');
        await delay(20);
        return 'first';
      });
      const second = lock.runAll(['consent-b', 'consent-a'], async () => {
        held.push('second');
        await delay(20);
        return 'second';
      });
      expect(await withinDeadline(Promise.all([first, second]), 'opposite orders')).to.deep.equal(['first', 'second']);
      expect(held).to.deep.equal(['first', 'second']);
    });

    it('does not deadlock, and never overlaps work on a key, with many overlapping key sets in random orders', async function () {
      const keys = ['k1', 'k2', 'k3', 'k4', 'k5'];
      const random = randomFrom(7);
      const holders = new Map<string, number>();
      let overlaps = 0;
      const jobs = Array.from({ length: 60 }, (_, n) => {
        const chosen = keys.filter(() => random() < 0.5);
        const wanted = (chosen.length > 0 ? chosen : ['k1']).sort(() => random() - 0.5);
        const work = async () => {
          for (const key of wanted) {
            if (holders.has(key)) overlaps++;
            holders.set(key, n);
          }
          await delay(Math.floor(random() * 3));
          for (const key of wanted) holders.delete(key);
          return n;
        };
        return wanted.length === 1 && random() < 0.3 ? lock.run(wanted[0]!, work) : lock.runAll(wanted, work);
      });
      const done = await withinDeadline(Promise.all(jobs), '60 overlapping jobs');
      expect(done).to.deep.equal(Array.from({ length: 60 }, (_, n) => n));
      expect(overlaps).to.equal(0);
    });

    it('takes a key named twice once, rather than waiting on itself', async function () {
      expect(await withinDeadline(lock.runAll(['consent-a', 'consent-a'], async () => 'once'), 'a repeated key')).to.equal('once');
    });

    it('releases every key when the work rejects', async function () {
      await lock.runAll(['consent-a', 'consent-b'], async () => {
        throw new Error('refused');
      }).then(() => expect.fail('the work should reject'), () => undefined);
      const after = await withinDeadline(Promise.all([
        lock.run('consent-a', async () => 'a'),
        lock.run('consent-b', async () => 'b'),
      ]), 'work after a rejected runAll');
      expect(after).to.deep.equal(['a', 'b']);
    });

    it('runs the work at once with no keys', async function () {
      expect(await lock.runAll([], async () => 'free')).to.equal('free');
    });
  });
});
