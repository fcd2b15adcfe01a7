/** Test helpers: a runtime on a fresh temporary data and keys directory, and inputs as byte streams. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../gateway/config/index.js';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { initialise, openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';

export interface TestRuntime {
  readonly runtime: Runtime;
  readonly config: GatewayConfig;
  readonly dir: string;
  /** Closes the runtime and removes its directories. */
  dispose(): Promise<void>;
}

export function testConfig(dir: string, env: Record<string, string> = {}): GatewayConfig {
  return loadConfig({
    GATEWAY_DATA_DIR: path.join(dir, 'data'),
    GATEWAY_KEYS_DIR: path.join(dir, 'keys'),
    GATEWAY_INGEST_WORKERS: '2',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

const templateKeys = new Map<string, Promise<string>>();

/**
 * Puts key material into the config's keys directory. Making a CA (RSA 3072) costs about a second, so each test
 * process makes one set of keys per crypto profile and copies it: tests that need keys of their own call
 * initialise() instead.
 */
export async function prepareTestKeys(config: GatewayConfig): Promise<void> {
  const profile = config.cryptoProfile ?? 'standard';
  let template = templateKeys.get(profile);
  if (template === undefined) {
    template = (async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-keys-'));
      await initialise(testConfig(dir, { GATEWAY_CRYPTO_PROFILE: profile }));
      process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      return path.join(dir, 'keys');
    })();
    templateKeys.set(profile, template);
  }
  fs.cpSync(await template, config.keysDir, { recursive: true, force: false, errorOnExist: false });
}

export async function openTestRuntime(env: Record<string, string> = {}): Promise<TestRuntime> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-test-'));
  const config = testConfig(dir, env);
  await prepareTestKeys(config);
  const runtime = (await openRuntime(config));
  return {
    runtime,
    config,
    dir,
    async dispose() {
      await runtime.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes as a stream, split into small pieces so that readers meet records cut across chunk boundaries. */
export async function* bytes(content: string | Buffer, pieceSize = 7): AsyncGenerator<Buffer> {
  const buffer = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  for (let offset = 0; offset < buffer.length; offset += pieceSize) yield buffer.subarray(offset, offset + pieceSize);
}

export function ndjson(rows: readonly object[]): string {
  return rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
}
