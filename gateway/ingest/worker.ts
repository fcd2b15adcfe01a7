/** Ingestion worker thread: validates, indexes and seals chunks of raw rows for the batch it was set up for. */
import { parentPort } from 'node:worker_threads';
import { loadDatasetRegistry } from '../datasets/registry.js';
import { createRowProcessor } from './rowProcessor.js';
import type { RowProcessor } from './rowProcessor.js';
import type { WorkerRequest, WorkerResponse } from './workerPool.js';

const port = parentPort;
if (!port) throw new Error('the ingestion worker must run in a worker thread');

const registry = loadDatasetRegistry();
let processor: RowProcessor | undefined;

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'setup') {
    processor = createRowProcessor(registry, request.setup);
    return;
  }
  let response: WorkerResponse;
  try {
    if (!processor) throw new Error('chunk received before setup');
    response = { seq: request.seq, result: processor.process(request.chunk) };
  } catch (error) {
    response = { seq: request.seq, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(response, 'result' in response ? [response.result.packed] : []);
});
