/** Test helper: `gateway serve` run as an operator runs it, until it answers a request, then stopped with SIGTERM. */
import { spawn } from 'node:child_process';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { CLI } from './cli.js';

/** A serve that never listens is killed after this long. */
const SERVE_TIMEOUT_MS = 60_000;

export interface ServeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `gateway serve` on the config's directories until it answers a request, calls `whileListening`, then stops it
 * with SIGTERM.
 */
export function serveUntilListening(config: GatewayConfig, whileListening: () => void = () => undefined): Promise<ServeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        GATEWAY_DATA_DIR: config.dataDir,
        GATEWAY_KEYS_DIR: config.keysDir,
        HOST: '127.0.0.1',
        PORT: '0',
        GATEWAY_DEMO_ENTERPRISES: '0',
        GATEWAY_INGEST_WORKERS: '1',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopping = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), SERVE_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      const listening = /gateway listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (!stopping && listening) {
        stopping = true;
        // serve installs its SIGTERM handler only after printing this line, so a SIGTERM sent at once can kill it
        // before the handler exists. An answered request proves the start-up code has run to its end.
        void fetch(`${listening[1]}/healthz`).then((response) => response.arrayBuffer()).then(whileListening).catch(reject)
          .finally(() => child.kill('SIGTERM'));
      }
    });
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
