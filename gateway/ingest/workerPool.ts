/**
 * A pool of ingestion worker threads. One batch runs at a time: chunks go out round-robin, at most a few per
 * worker in flight (so memory stays flat however long the input), and results come back in input order.
 */
import { Worker } from 'node:worker_threads';
import type { BatchSetup, ProcessedChunk, RawChunk } from './types.js';

export type WorkerRequest =
  | { readonly type: 'setup'; readonly setup: BatchSetup }
  | { readonly type: 'chunk'; readonly seq: number; readonly chunk: RawChunk };

export type WorkerResponse =
  | { readonly seq: number; readonly result: ProcessedChunk }
  | { readonly seq: number; readonly error: string };

const IN_FLIGHT_PER_WORKER = 3;

export interface WorkerPool {
  /** Processes every chunk; `onResult` sees results in input order. Rejects on the first failure. */
  run(setup: BatchSetup, chunks: AsyncIterable<RawChunk>, onResult: (result: ProcessedChunk) => void): Promise<void>;
  close(): Promise<void>;
}

export function createWorkerPool(size: number): WorkerPool {
  let workers: Worker[] = [];
  let busy = false;

  const start = () => {
    if (workers.length === 0) {
      workers = Array.from({ length: size }, () => new Worker(new URL('./worker.js', import.meta.url)));
    }
    return workers;
  };
  const discard = async () => {
    const dying = workers;
    workers = [];
    await Promise.all(dying.map((worker) => worker.terminate()));
  };

  return {
    async run(setup, chunks, onResult) {
      if (busy) throw new Error('the ingestion pool runs one batch at a time');
      busy = true;
      const pool = start();
      let failure: unknown;
      let broken = false;
      let inFlight = 0;
      let nextSeq = 0;
      let nextToDeliver = 0;
      const ready = new Map<number, ProcessedChunk>();
      let wake: (() => void) | undefined;
      const signal = () => {
        const resume = wake;
        wake = undefined;
        resume?.();
      };
      const waitFor = async (condition: () => boolean) => {
        while (!condition()) await new Promise<void>((resolve) => (wake = resolve));
      };
      const onMessage = (response: WorkerResponse) => {
        inFlight--;
        if ('error' in response) {
          failure ??= new Error(`ingestion worker failed: ${response.error}`);
        } else {
          ready.set(response.seq, response.result);
          for (let result = ready.get(nextToDeliver); result; result = ready.get(nextToDeliver)) {
            ready.delete(nextToDeliver++);
            if (failure === undefined) {
              try {
                onResult(result);
              } catch (error) {
                failure = error;
              }
            }
          }
        }
        signal();
      };
      const onCrash = (error: unknown) => {
        failure ??= error instanceof Error ? error : new Error('an ingestion worker exited');
        broken = true;
        signal();
      };
      for (const worker of pool) {
        worker.on('message', onMessage);
        worker.on('error', onCrash);
        worker.on('exit', onCrash);
        worker.postMessage({ type: 'setup', setup } satisfies WorkerRequest);
      }
      try {
        for await (const chunk of chunks) {
          await waitFor(() => failure !== undefined || inFlight < pool.length * IN_FLIGHT_PER_WORKER);
          if (failure !== undefined) break;
          pool[nextSeq % pool.length]!.postMessage({ type: 'chunk', seq: nextSeq++, chunk } satisfies WorkerRequest);
          inFlight++;
        }
      } catch (error) {
        failure ??= error;
      } finally {
        // Drain what is in flight, so no stale result reaches the next batch.
        await waitFor(() => broken || inFlight === 0);
        for (const worker of pool) {
          worker.off('message', onMessage);
          worker.off('error', onCrash);
          worker.off('exit', onCrash);
        }
        if (broken) await discard();
        busy = false;
      }
      if (failure !== undefined) throw failure;
    },
    close: discard,
  };
}
