// Pins onboarding through the real `gateway` CLI: `init` key files and modes, `participants add` from an openssl CSR
// or with a generated key, its refusals, `list`, the suspend/resume/revoke life cycle, and `gateway client ingest`
// against a running gateway (verified receipts, idempotent retries, role checks, a suspension made by the CLI taking
// effect on the server's next request). No command may print private key material.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { failedWith, json, runCli, succeeded as exitedZero } from '../support/cli.js';
import type { Run } from '../support/cli.js';
import { testConfig } from '../support/runtime.js';

const OPENSSL = '/usr/bin/openssl';
const DATASET = 'medical_insurance_arrears';
const VALID_USCC = '91350100M000100Y43';
/** VALID_USCC with a wrong check character. */
const BAD_CHECK_USCC = '91350100M000100Y44';
const PRIVATE_FILES = ['ca.key.pem', 'data-kek.key', 'blind-index.key', 'signing-keys.json'];

interface Added {
  readonly id: string;
  readonly role: string;
  readonly name: string;
  readonly status: string;
  readonly uscc?: string;
  readonly datasets?: string[];
  readonly certificate: string;
  readonly certificate_file: string;
  readonly key_file?: string;
}

interface ClientIngest {
  readonly status: number;
  readonly replayed: boolean;
  readonly receipt: string;
  readonly signing_key: string;
  readonly claims: Record<string, unknown>;
}

/** Exit 0, and the --json output. */
function succeeded<T>(run: Run): T {
  return json<T>(exitedZero(run));
}


function modeOf(file: string): string {
  return (fs.statSync(file).mode & 0o777).toString(8);
}

function spkiOf(key: string | ReturnType<typeof createPrivateKey>): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}

function openssl(args: readonly string[]): string {
  return execFileSync(OPENSSL, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('gateway participants (CLI)', function () {
  this.timeout(300_000);
  let root: string;
  let file: (name: string) => string;
  /** Every command run here, for the check that none of them printed a private key. */
  const runs: Run[] = [];
  const gateway = async (args: readonly string[], extraEnv: Record<string, string> = {}): Promise<Run> => {
    const run = await runCli(root, args, extraEnv);
    runs.push(run);
    return run;
  };
  const add = (args: readonly string[]) => gateway(['participants', 'add', ...args, '--json']);

  before(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-participants-'));
    file = (name) => path.join(root, name);
    fs.writeFileSync(file('garbage.csr.pem'), 'this is not a certificate signing request\n');
    fs.writeFileSync(file('arrears.csv'), [
      '企业名称,统一社会信用代码,欠缴所属期,欠缴金额',
      `济南明德机械有限公司,${VALID_USCC},2024-11,1200.00`,
      '济南历城鑫源食品有限公司,91370102MA3M9XQ1L1,2024-12,0',
    ].join('\n') + '\n');
  });

  after(function () {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe('gateway init', function () {
    let first: { created: string[] };

    before(async function () {
      first = succeeded(await gateway(['init', '--json']));
    });

    it('writes the CA key, the data keys and the signing keys with mode 0600', function () {
      expect(first.created).to.include.members([...PRIVATE_FILES, 'ca.cert.pem']);
      for (const name of PRIVATE_FILES) expect(modeOf(path.join(root, 'keys', name)), name).to.equal('600');
    });

    it('is idempotent: a second run creates nothing and changes nothing', async function () {
      const before = PRIVATE_FILES.map((name) => fs.readFileSync(path.join(root, 'keys', name), 'utf8'));
      const again = succeeded<{ created: string[] }>(await gateway(['init', '--json']));
      expect(again.created).to.deep.equal([]);
      expect(PRIVATE_FILES.map((name) => fs.readFileSync(path.join(root, 'keys', name), 'utf8'))).to.deep.equal(before);
    });
  });

  describe('participants add --csr, with an RSA CSR made by openssl', function () {
    let added: Added;

    before(async function () {
      if (!fs.existsSync(OPENSSL)) {
        console.warn(`      (${OPENSSL} is absent: skipping the CSR tests)`);
        this.skip();
      }
      openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('bank.key.pem'), '-out', file('bank.csr.pem'), '-subj', '/CN=anything']);
      openssl([
        'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', file('ec.key.pem'), '-out', file('ec.csr.pem'), '-subj', '/CN=anything',
      ]);
      added = succeeded(await add(['--role', 'bank', '--name', '某某银行', '--csr', file('bank.csr.pem')]));
    });

    it('prints the participant as JSON, with the issued certificate also written to certificate_file', function () {
      expect(added.id).to.match(/^bank-[0-9a-f]{8}$/);
      expect(added).to.include({ role: 'bank', name: '某某银行', status: 'active' });
      expect(added.certificate).to.match(/^-----BEGIN CERTIFICATE-----\n/);
      expect(added.certificate_file).to.equal(path.join(root, 'keys', 'participants', `${added.id}.cert.pem`));
      expect(fs.readFileSync(added.certificate_file, 'utf8')).to.equal(added.certificate);
      expect(added).to.not.have.property('key_file');
    });

    it('issues a certificate that `openssl verify` accepts against keys/ca.cert.pem', function () {
      const output = openssl(['verify', '-CAfile', path.join(root, 'keys', 'ca.cert.pem'), added.certificate_file]);
      expect(output.trim()).to.equal(`${added.certificate_file}: OK`);
    });

    it('certifies the key of the CSR', function () {
      expect(spkiOf(added.certificate).equals(spkiOf(createPrivateKey(fs.readFileSync(file('bank.key.pem')))))).to.equal(true);
    });

    it('writes the subject itself (CN the id, O the name, OU the role), whatever the CSR asked for', function () {
      const certificate = new X509Certificate(added.certificate);
      expect(certificate.subject).to.equal(`CN=${added.id}\nO=某某银行\nOU=bank`);
      expect(certificate.subjectAltName).to.equal(`URI:urn:credit-gateway:participant:${added.id}`);
    });

    it('refuses an EC CSR with invalid_csr', async function () {
      failedWith(await add(['--role', 'bank', '--name', 'EC bank', '--id', 'bank-ec', '--csr', file('ec.csr.pem')]), 'invalid_csr');
    });

    it('refuses a second participant with the same --id with participant_exists, keeping the first one\'s certificate', async function () {
      failedWith(await add(['--role', 'bank', '--name', 'Another bank', '--id', added.id, '--csr', file('bank.csr.pem')]), 'participant_exists');
      expect(fs.readFileSync(added.certificate_file, 'utf8')).to.equal(added.certificate);
    });
  });

  describe('participants add --generate', function () {
    let source: Added;
    let bank: Added;
    let enterprise: Added;

    before(async function () {
      [source, bank, enterprise] = (await Promise.all([
        add(['--role', 'source', '--name', '济南市医疗保障局', '--id', 'source-jinan', '--datasets', DATASET, '--generate']),
        add(['--role', 'bank', '--name', '测试银行', '--id', 'bank-client', '--generate']),
        add(['--role', 'enterprise', '--name', '济南明德机械有限公司', '--id', 'enterprise-mingde', '--uscc', VALID_USCC, '--generate']),
      ])).map((run) => succeeded<Added>(run)) as [Added, Added, Added];
    });

    it('writes the private key to <keys>/participants/<id>.key.pem with mode 0600', function () {
      const keyFile = path.join(root, 'keys', 'participants', 'source-jinan.key.pem');
      expect(source.key_file).to.equal(keyFile);
      expect(modeOf(keyFile)).to.equal('600');
      expect(spkiOf(source.certificate).equals(spkiOf(createPrivateKey(fs.readFileSync(keyFile))))).to.equal(true);
    });

    it('binds a source to its datasets', function () {
      expect(source).to.include({ id: 'source-jinan', role: 'source', status: 'active' });
      expect(source.datasets).to.deep.equal([DATASET]);
      expect(bank).to.not.have.property('datasets');
    });

    it('binds an enterprise to its USCC', function () {
      expect(enterprise).to.include({ role: 'enterprise', uscc: VALID_USCC });
    });

    it('refuses a second participant with the same --id with participant_exists, keeping the first one\'s key', async function () {
      const key = fs.readFileSync(path.join(root, 'keys', 'participants', 'bank-client.key.pem'), 'utf8');
      failedWith(await add(['--role', 'bank', '--name', 'Another bank', '--id', 'bank-client', '--generate']), 'participant_exists');
      expect(fs.readFileSync(path.join(root, 'keys', 'participants', 'bank-client.key.pem'), 'utf8')).to.equal(key);
    });
  });

  describe('participants add for a USCC that already has an enterprise participant', function () {
    const USCC_RENEWED = '91110108722619411A';

    it('refuses a second one with participant_exists, naming --replaces, and writes no key for it', async function () {
      const refused = await add(['--role', 'enterprise', '--name', 'Usurper', '--id', 'enterprise-usurper', '--uscc', VALID_USCC, '--generate']);
      failedWith(refused, 'participant_exists');
      expect(refused.stdout + refused.stderr).to.include('--replaces enterprise-mingde');
      expect(fs.existsSync(path.join(root, 'keys', 'participants', 'enterprise-usurper.key.pem'))).to.equal(false);
    });

    it('re-enrols with --replaces: the new one is active, the old one revoked', async function () {
      succeeded(await add(['--role', 'enterprise', '--name', '北京测试科技有限公司', '--id', 'enterprise-renewed-old', '--uscc', USCC_RENEWED, '--generate']));
      const renewed = succeeded<Added>(await add([
        '--role', 'enterprise', '--name', '北京测试科技有限公司', '--id', 'enterprise-renewed-new', '--uscc', USCC_RENEWED, '--replaces', 'enterprise-renewed-old', '--generate',
      ]));
      expect(renewed).to.include({ id: 'enterprise-renewed-new', status: 'active', uscc: USCC_RENEWED });
      const rows = succeeded<Array<{ id: string; status: string }>>(await gateway(['participants', 'list', '--json']));
      expect(rows.find((row) => row.id === 'enterprise-renewed-old')?.status).to.equal('revoked');
    });
  });

  describe('participants add refusals', function () {
    const cases: ReadonlyArray<{ why: string; args: string[]; code: string }> = [
      { why: 'an enterprise without --uscc', code: 'invalid_argument', args: ['--role', 'enterprise', '--name', 'E', '--id', 'refused-ent-a', '--generate'] },
      { why: 'an enterprise whose USCC has a bad check character', code: 'invalid_argument', args: ['--role', 'enterprise', '--name', 'E', '--id', 'refused-ent-b', '--uscc', BAD_CHECK_USCC, '--generate'] },
      { why: 'a source without --datasets', code: 'invalid_argument', args: ['--role', 'source', '--name', 'S', '--id', 'refused-src-a', '--generate'] },
      { why: 'a source with an unknown dataset', code: 'invalid_argument', args: ['--role', 'source', '--name', 'S', '--id', 'refused-src-b', '--datasets', `${DATASET},no_such_dataset`, '--generate'] },
      { why: '--uscc on a bank', code: 'invalid_argument', args: ['--role', 'bank', '--name', 'B', '--id', 'refused-bank-a', '--uscc', VALID_USCC, '--generate'] },
      { why: '--datasets on a bank', code: 'invalid_argument', args: ['--role', 'bank', '--name', 'B', '--id', 'refused-bank-b', '--datasets', DATASET, '--generate'] },
      { why: 'an unknown role', code: 'invalid_argument', args: ['--role', 'admin', '--name', 'A', '--id', 'refused-admin', '--generate'] },
      { why: 'both --csr and --generate', code: 'invalid_argument', args: ['--role', 'bank', '--name', 'B', '--id', 'refused-bank-c', '--csr', 'garbage.csr.pem', '--generate'] },
      { why: 'neither --csr nor --generate', code: 'invalid_argument', args: ['--role', 'bank', '--name', 'B', '--id', 'refused-bank-d'] },
      { why: 'a file that is not a CSR', code: 'invalid_csr', args: ['--role', 'bank', '--name', 'B', '--id', 'refused-bank-e', '--csr', 'garbage.csr.pem'] },
      { why: 'an id with capitals and an underscore', code: 'invalid_argument', args: ['--role', 'bank', '--name', 'B', '--id', 'Bank_One', '--generate'] },
      { why: 'an id that is a path', code: 'invalid_argument', args: ['--role', 'bank', '--name', 'B', '--id', '../escaped', '--generate'] },
    ];
    const refused = new Map<string, Run>();

    before(async function () {
      // Each case has an id of its own, so they can run side by side.
      const results = await Promise.all(cases.map((refusal) => add(refusal.args.map((arg) => (arg.endsWith('.csr.pem') ? file(arg) : arg)))));
      cases.forEach((refusal, index) => refused.set(refusal.why, results[index] as Run));
    });

    for (const refusal of cases) {
      it(`refuses ${refusal.why} with exit code 1 and ${refusal.code}`, function () {
        failedWith(refused.get(refusal.why) as Run, refusal.code);
      });
    }

    it('leaves no key file behind for a refused participant, in the keys directory or outside it', function () {
      const left = fs.readdirSync(path.join(root, 'keys', 'participants')).filter((name) => /refused|Bank_One/.test(name));
      expect(left).to.deep.equal([]);
      expect(fs.existsSync(path.join(root, 'keys', 'escaped.key.pem'))).to.equal(false);
    });
  });

  describe('participants list', function () {
    it('--json lists the registered participants with role, status and bindings, and none of the refused ones', async function () {
      const rows = succeeded<Array<{ id: string; role: string; status: string; datasets?: string[]; uscc?: string }>>(await gateway(['participants', 'list', '--json']));
      const byId = new Map(rows.map((row) => [row.id, row]));
      expect(byId.get('source-jinan')).to.include({ role: 'source', status: 'active' });
      expect(byId.get('source-jinan')?.datasets).to.deep.equal([DATASET]);
      expect(byId.get('enterprise-mingde')).to.include({ role: 'enterprise', uscc: VALID_USCC, status: 'active' });
      expect(byId.get('bank-client')).to.include({ role: 'bank', status: 'active' });
      expect(rows.map((row) => row.id).filter((id) => id.startsWith('refused'))).to.deep.equal([]);
    });
  });

  describe('participants show', function () {
    it('shows one participant: role, status, bindings, certificate and where its files are', async function () {
      const [machine, human, nobody] = await Promise.all([
        gateway(['participants', 'show', 'source-jinan', '--json']),
        gateway(['participants', 'show', 'source-jinan']),
        gateway(['participants', 'show', 'bank-nobody', '--json']),
      ]);
      const shown = succeeded<{ id: string; role: string; status: string; datasets: string[]; certificate: string; certificate_file: string; certificate_sha256: string }>(machine);
      expect(shown).to.include({ id: 'source-jinan', role: 'source', status: 'active' });
      expect(shown.datasets).to.deep.equal([DATASET]);
      expect(shown.certificate).to.match(/^-----BEGIN CERTIFICATE-----\n/);
      expect(fs.readFileSync(shown.certificate_file, 'utf8')).to.equal(shown.certificate);
      expect(human.code).to.equal(0);
      expect(human.stdout.split('\n')[0]).to.match(/^source-jinan \(source\): .+, active$/);
      expect(human.stdout).to.include(`sha256 ${shown.certificate_sha256}`);
      expect(nobody.code).to.equal(1);
      expect((JSON.parse(nobody.stdout) as { error: { code: string } }).error.code).to.equal('not_found');
    });
  });

  describe('participants suspend, resume and revoke', function () {
    const change = (verb: string, id: string) => gateway(['participants', verb, id, '--json']);
    let unknown: Run[];

    before(async function () {
      const [auditor, ...changesOfNobody] = await Promise.all([
        add(['--role', 'auditor', '--name', '审计署', '--id', 'auditor-status', '--generate']),
        ...['suspend', 'resume', 'revoke'].map((verb) => change(verb, 'bank-nobody')),
      ]);
      succeeded(auditor as Run);
      unknown = changesOfNobody;
    });

    it('suspends an active participant', async function () {
      expect(succeeded<{ status: string }>(await change('suspend', 'auditor-status')).status).to.equal('suspended');
    });

    it('refuses to suspend it again with invalid_status_change', async function () {
      failedWith(await change('suspend', 'auditor-status'), 'invalid_status_change');
    });

    it('resumes a suspended participant', async function () {
      expect(succeeded<{ status: string }>(await change('resume', 'auditor-status')).status).to.equal('active');
    });

    it('refuses to resume an active participant with invalid_status_change', async function () {
      failedWith(await change('resume', 'auditor-status'), 'invalid_status_change');
    });

    it('revokes a participant', async function () {
      expect(succeeded<{ status: string }>(await change('revoke', 'auditor-status')).status).to.equal('revoked');
    });

    it('refuses every change after revocation with invalid_status_change', async function () {
      const after = await Promise.all(['suspend', 'resume', 'revoke'].map((verb) => change(verb, 'auditor-status')));
      for (const run of after) failedWith(run, 'invalid_status_change');
    });

    it('answers not_found for an unknown id', function () {
      expect(unknown).to.have.length(3);
      for (const run of unknown) failedWith(run, 'not_found');
    });
  });

  describe('participants enrolment-code', function () {
    it('prints a one-time code for the USCC, valid for --hours, of which only the hash is stored', async function () {
      const issued = succeeded<{ code: string; uscc: string; expires_at: string }>(await gateway(['participants', 'enrolment-code', '--uscc', VALID_USCC, '--name', '济南明德机械有限公司', '--hours', '2', '--json']));
      expect(issued.code).to.match(/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);
      expect(issued.uscc).to.equal(VALID_USCC);
      const hours = (Date.parse(issued.expires_at) - Date.now()) / 3_600_000;
      expect(hours).to.be.within(1.9, 2);
      const database = fs.readFileSync(path.join(root, 'data', 'gateway.sqlite'));
      expect(database.includes(Buffer.from(issued.code))).to.equal(false);
    });

    it('refuses a USCC with a wrong check character with invalid_argument', async function () {
      failedWith(await gateway(['participants', 'enrolment-code', '--uscc', BAD_CHECK_USCC, '--name', 'x', '--json']), 'invalid_argument');
    });
  });

  describe('gateway client ingest, against a running gateway on the same directories', function () {
    let running: RunningServer;
    let env: Record<string, string>;
    let first: ClientIngest;
    const ingest = (as: string, key: string) =>
      gateway(['client', 'ingest', DATASET, file('arrears.csv'), '--as', as, '--idempotency-key', key, '--json'], env);

    before(async function () {
      const runtime = await openRuntime(testConfig(root, { HOST: '127.0.0.1', PORT: '0', GATEWAY_INGEST_WORKERS: '1' }));
      running = await startServer(runtime, createLogger('silent'), createMetrics());
      env = { GATEWAY_URL: running.url };
    });

    after(async function () {
      await running?.stop();
    });

    it('stores the batch and prints a receipt verified against the gateway\'s JWKS', async function () {
      first = succeeded(await ingest('source-jinan', 'k'));
      expect(first.status).to.equal(201);
      expect(first.replayed).to.equal(false);
      expect(first.claims).to.include({ outcome: 'stored', dataset: DATASET, source: 'source-jinan', aud: 'source-jinan', row_count: 2 });
      const jwks = (await (await fetch(`${running.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      const { protectedHeader, payload } = await compactVerify(first.receipt, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
      expect(protectedHeader.kid).to.equal(first.signing_key);
      expect(JSON.parse(Buffer.from(payload).toString('utf8'))).to.deep.equal(first.claims);
    });

    it('answers a retry with the same --idempotency-key with the first receipt, replayed: true', async function () {
      const again = succeeded<ClientIngest>(await ingest('source-jinan', 'k'));
      expect(again.replayed).to.equal(true);
      expect(again.status).to.equal(first.status);
      expect(again.receipt).to.equal(first.receipt);
    });

    it('refuses a bank with exit code 1 and role_not_allowed', async function () {
      failedWith(await ingest('bank-client', 'k-bank'), 'role_not_allowed');
    });

    it('refuses the source with participant_suspended once `participants suspend` has run, the server still running', async function () {
      succeeded(await gateway(['participants', 'suspend', 'source-jinan', '--json']));
      failedWith(await ingest('source-jinan', 'k-suspended'), 'participant_suspended');
    });

    it('accepts the source again once `participants resume` has run', async function () {
      succeeded(await gateway(['participants', 'resume', 'source-jinan', '--json']));
      const resumed = succeeded<ClientIngest>(await ingest('source-jinan', 'k-resumed'));
      expect(resumed.claims).to.include({ outcome: 'duplicate', batch_id: first.claims['batch_id'] });
    });
  });

  describe('output', function () {
    it('never shows private key material, in any command\'s stdout or stderr', function () {
      const keysDir = path.join(root, 'keys');
      const signingKeys = JSON.parse(fs.readFileSync(path.join(keysDir, 'signing-keys.json'), 'utf8')) as { keys: Array<{ private_jwk: { d: string } }> };
      const secrets = [
        'PRIVATE KEY',
        ...['data-kek.key', 'blind-index.key'].map((name) => fs.readFileSync(path.join(keysDir, name), 'utf8').trim()),
        ...signingKeys.keys.map((key) => key.private_jwk.d),
      ];
      expect(runs.length).to.be.greaterThan(20);
      for (const run of runs) {
        for (const secret of secrets) {
          expect(run.stdout, `gateway ${run.args.join(' ')}`).to.not.include(secret);
          expect(run.stderr, `gateway ${run.args.join(' ')}`).to.not.include(secret);
        }
      }
    });
  });
});
