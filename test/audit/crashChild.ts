/**
 * Child process for the audit crash test: opens a runtime on the directory given in argv (keys already there), makes
 * checkpoints every 100 ms, and appends entries `{ n }` with `IN_FLIGHT` appends always pending, printing
 * "acked <index> <n>" once each append's promise resolves (durable). stdout to a pipe is synchronous on Linux, so
 * every printed line was acknowledged before the parent's SIGKILL can land. Runs until killed, or `limit` appends.
 */
import { openRuntime } from '../../gateway/runtime/index.js';
import { testConfig } from '../support/runtime.js';

const IN_FLIGHT = 64;
const [dir, limitArgument] = process.argv.slice(2);
const limit = Number(limitArgument ?? 1_000_000);
const runtime = (await openRuntime(testConfig(dir!, { GATEWAY_CHECKPOINT_INTERVAL_MS: '100', GATEWAY_INGEST_WORKERS: '1' })));
runtime.audit.checkpointer.start();

let next = 0;

function appendOne(): Promise<void> | undefined {
  if (next >= limit) return undefined;
  const n = next++;
  return runtime.audit.log.append({ kind: 'audit.read', actor: 'crash-test', details: { n } }).then((appended) => {
    process.stdout.write(`acked ${appended.index} ${n}\n`);
    return appendOne();
  });
}

await Promise.all(Array.from({ length: IN_FLIGHT }, appendOne));
process.stdout.write('done\n');
await runtime.close();
