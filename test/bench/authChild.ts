/**
 * Benchmark child: request authentication. Signs REQUESTS distinct requests (1 KiB body each) as one source
 * participant, then authenticates them all through the gateway's authenticator — header decode, registry lookup,
 * certificate check (cached), signature verification (jose), claim checks, body hash and the durable replay cache
 * (group-committed to SQLite) — with IN_FLIGHT requests outstanding, as a server under load would. Prints one JSON
 * line. The parent runs it under `taskset -c 0`, so that the figure is what one core does (jose's WebCrypto work
 * runs in the libuv pool, which would otherwise use the second core).
 */
import { createRequestSigner } from '../../gateway/client/client.js';
import type { RequestAlgorithm } from '../../gateway/client/client.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const [dir, algorithmArgument, countArgument] = process.argv.slice(2);
const algorithm = algorithmArgument as RequestAlgorithm;
const REQUESTS = Number(countArgument);
const IN_FLIGHT = 64;
const config = testConfig(dir!);
await prepareTestKeys(config);
const runtime = (await openRuntime(config));
const pair = generateRsaKeyPair();
const participant = await runtime.participants.add({
  participantId: 'bench-source', role: 'source', name: 'Bench source', datasets: ['medical_insurance_arrears'],
  publicKeyPem: pair.publicKeyPem, certificateDays: 30,
});
const credentials = { participantId: participant.participantId, privateKeyPem: pair.privateKeyPem, certificatePem: participant.certificatePem };
const body = Buffer.alloc(1024, 'x');
const path = '/v1/ingest/medical_insurance_arrears';
const signer = createRequestSigner(credentials);
const tokens: string[] = [];
for (let i = 0; i < REQUESTS; i += IN_FLIGHT) {
  const batch = Array.from({ length: Math.min(IN_FLIGHT, REQUESTS - i) }, () =>
    signer.sign({ method: 'POST', path, body, audience: config.gatewayId, algorithm }));
  tokens.push(...await Promise.all(batch));
}

const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
let next = 0;
async function lane(): Promise<void> {
  while (next < tokens.length) {
    const token = tokens[next++]!;
    await runtime.authenticator.authenticate({ authorization: `JWS ${token}`, method: 'POST', target: path, body }, ['source']);
  }
}
await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
await runtime.close();
process.stdout.write(`${JSON.stringify({ requests: REQUESTS, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
