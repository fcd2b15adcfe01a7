/**
 * The HTTP entry point: listens, and on SIGTERM/SIGINT stops accepting, lets in-flight requests finish (up to the
 * grace period), then closes the runtime (worker threads, database) cleanly.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, Metrics } from '../observability/index.js';
import type { Runtime } from '../runtime/index.js';
import { createApp } from './app.js';

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  /** Graceful stop; resolves once the runtime is closed. */
  stop(): Promise<void>;
}

export async function startServer(runtime: Runtime, logger: Logger, metrics: Metrics): Promise<RunningServer> {
  let shuttingDown = false;
  const app = createApp({
    logger,
    metrics,
    checkReady: () => runtime.store.ping(),
    isShuttingDown: () => shuttingDown,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(runtime.config.port, runtime.config.host, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), runtime.config.shutdownGraceMs);
      await closed;
      clearTimeout(grace);
      await runtime.close();
      logger.info('gateway stopped');
    })();
    return stopping;
  };
  return { server, url: `http://${host}:${address.port}`, stop };
}
