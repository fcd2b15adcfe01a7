/**
 * Test helper: a real gateway on 127.0.0.1 (port 0) over a fresh data and keys directory, with participants
 * enrolled on demand and typed clients that sign as them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GatewayClient } from '../../gateway/client/client.js';
import type { ClientOptions, ParticipantCredentials } from '../../gateway/client/client.js';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime, RuntimeHooks } from '../../gateway/runtime/index.js';
import type { ParticipantRecord } from '../../gateway/store/index.js';
import { prepareTestKeys, testConfig } from './runtime.js';

export interface EnrolledParticipant {
  readonly record: ParticipantRecord;
  readonly credentials: ParticipantCredentials;
}

export interface TestGateway {
  readonly config: GatewayConfig;
  readonly runtime: Runtime;
  readonly running: RunningServer;
  readonly url: string;
  readonly dir: string;
  /** Registers a participant with a fresh RSA key; id defaults to `<role>-<n>`. */
  enrol(role: 'source' | 'enterprise' | 'bank' | 'auditor' | 'operator', options?: { id?: string; uscc?: string; datasets?: string[]; name?: string; replaces?: string }): Promise<EnrolledParticipant>;
  client(participant: EnrolledParticipant, options?: Partial<ClientOptions>): GatewayClient;
  /** Stops the server, closes the runtime and removes the directories. */
  stop(): Promise<void>;
}

let enrolled = 0;

export async function startTestGateway(env: Record<string, string> = {}, hooks: RuntimeHooks = {}): Promise<TestGateway> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-http-'));
  const config = testConfig(dir, { PORT: '0', HOST: '127.0.0.1', GATEWAY_INGEST_WORKERS: '1', ...env });
  await prepareTestKeys(config);
  const runtime = (await openRuntime(config, hooks));
  const running = await startServer(runtime, createLogger('silent'), createMetrics());
  return {
    config,
    runtime,
    running,
    url: running.url,
    dir,
    async enrol(role, options = {}) {
      const pair = generateRsaKeyPair();
      const record = await runtime.participants.add({
        participantId: options.id ?? `${role}-${++enrolled}`,
        role,
        name: options.name ?? `Test ${role}`,
        uscc: options.uscc,
        datasets: options.datasets ?? (role === 'source' ? ['medical_insurance_arrears'] : undefined),
        publicKeyPem: pair.publicKeyPem,
        certificateDays: 30,
        replaces: options.replaces,
      });
      return { record, credentials: { participantId: record.participantId, privateKeyPem: pair.privateKeyPem, certificatePem: record.certificatePem } };
    },
    client(participant, options = {}) {
      return new GatewayClient({ baseUrl: running.url, credentials: participant.credentials, audience: config.gatewayId, ...options });
    },
    async stop() {
      await running.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
