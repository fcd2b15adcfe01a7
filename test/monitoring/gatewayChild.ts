/**
 * Child process for the monitoring crash test: serves the gateway over the directory given in argv (keys and data
 * already there) on 127.0.0.1, which starts the alert delivery worker, and prints "listening <url>". Runs until it
 * is killed (SIGKILL in the test) or stopped with SIGTERM.
 */
import { startServer } from '../../gateway/http/server.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { testConfig } from '../support/runtime.js';

const [dir] = process.argv.slice(2);
const runtime = await openRuntime(testConfig(dir!, {
  PORT: '0', HOST: '127.0.0.1', GATEWAY_INGEST_WORKERS: '1', GATEWAY_ALERT_POLL_MS: '50', GATEWAY_ALERT_RETRY_BASE_MS: '50',
  GATEWAY_ALERT_RETRY_MAX_MS: '200', GATEWAY_ALERT_CONCURRENCY_PER_BANK: '4', GATEWAY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
}));
const running = await startServer(runtime, createLogger('silent'), createMetrics());
process.once('SIGTERM', () => void running.stop());
process.stdout.write(`listening ${running.url}\n`);
