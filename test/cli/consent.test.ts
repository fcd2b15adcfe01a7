// Pins `gateway consent` through the real CLI (node dist/gateway/cli/main.js) against a gateway running in this
// process on the same data and keys directories, with participants made by `gateway participants add --generate`:
// `grant` prints the new consent id (and with --json the consent and its receipt, which verifies against the JWKS);
// `list` shows it to the enterprise and to its bank only; `accesses` lists its audit entries; `revoke` ends it once;
// `export` prints the stored artefact, which `verify` accepts offline (with the keys directory's CA certificate or
// one given with --ca) and refuses once tampered with; and every refusal exits 1 with the problem code in --json.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { createCertificateAuthority } from '../../gateway/crypto/x509.js';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import { failedWith, json, runCli, succeeded } from '../support/cli.js';
import type { Run } from '../support/cli.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';

const USCC = '91350100M000100Y43';
const OTHER_USCC = '91110108722619411A';
const ENTERPRISE = 'enterprise-cli';
const OTHER_ENTERPRISE = 'enterprise-cli-other';
const BANK = 'bank-cli';
const OTHER_BANK = 'bank-cli-other';
const SOCIAL_INSURANCE_SIZE = 12;

interface Consent {
  readonly consent_id: string;
  readonly state: string;
  readonly enterprise: string;
  readonly uscc: string;
  readonly bank: string;
  readonly purpose: string;
  readonly questions: readonly string[];
  readonly max_uses: number | null;
  readonly replaces: string | null;
  readonly replaced_by: string | null;
  readonly artefact_sha256: string;
  readonly audit_index: number;
}

interface GrantOutput {
  readonly id: string;
  readonly consent: Consent;
  readonly receipt: string;
}

interface AccessesOutput {
  readonly consent_id: string;
  readonly state: string;
  readonly entries: ReadonlyArray<{ readonly index: number; readonly kind: string; readonly actor: string; readonly recorded_at: string }>;
}

interface VerifyOutput {
  readonly valid: boolean;
  readonly claims: Record<string, unknown>;
  readonly certificate_sha256: string;
}

/** Runs `node dist/gateway/cli/main.js ...args` with its data and keys under `root`. */

describe('gateway consent (CLI)', function () {
  this.timeout(300_000);
  let root: string;
  let runtime: Runtime;
  let running: RunningServer;
  let file: (name: string) => string;
  /** The consent most commands below work on; `consent revoke` ends it last. */
  let granted: GrantOutput;

  /** Every command talks to the in-process gateway. A CLI start costs about a second, so independent runs go together. */
  const gateway = (args: readonly string[]) => runCli(root, args, { GATEWAY_URL: running.url });
  const grantArgs = (overrides: Record<string, string> = {}) => Object.entries({
    '--as': ENTERPRISE, '--bank': BANK, '--purpose': 'loan_approval', '--questions': 'medical_arrears_now', '--days': '30', ...overrides,
  }).flat();

  before(async function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-consent-cli-'));
    file = (name) => path.join(root, name);
    const config = testConfig(root, { HOST: '127.0.0.1', PORT: '0', GATEWAY_INGEST_WORKERS: '1' });
    await prepareTestKeys(config);
    runtime = (await openRuntime(config));
    running = await startServer(runtime, createLogger('silent'), createMetrics());
    const added = await Promise.all([
      gateway(['participants', 'add', '--role', 'enterprise', '--name', '济南明德机械有限公司', '--id', ENTERPRISE, '--uscc', USCC, '--generate', '--json']),
      gateway(['participants', 'add', '--role', 'enterprise', '--name', '北京某某科技有限公司', '--id', OTHER_ENTERPRISE, '--uscc', OTHER_USCC, '--generate', '--json']),
      gateway(['participants', 'add', '--role', 'bank', '--name', '测试银行', '--id', BANK, '--generate', '--json']),
      gateway(['participants', 'add', '--role', 'bank', '--name', '另一家银行', '--id', OTHER_BANK, '--generate', '--json']),
    ]);
    added.forEach(succeeded);
    granted = json<GrantOutput>(succeeded(await gateway(['consent', 'grant', ...grantArgs({ '--questions': 'social_insurance,water_arrears_now', '--max-uses': '10' }), '--json'])));
  });

  after(async function () {
    await running?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe('consent grant', function () {
    // Each refusal by the gateway has its own HTTP test (test/http/consents.test.ts); these show how the CLI reports
    // one, and the refusals the CLI makes itself.
    const refusals: ReadonlyArray<{ readonly why: string; readonly overrides: Record<string, string>; readonly code: string }> = [
      { why: 'for an unknown bank', overrides: { '--bank': 'bank-nobody' }, code: 'consent_bank_unavailable' },
      { why: 'naming a question the purpose does not allow', overrides: { '--purpose': 'customer_screening', '--questions': 'medical_arrears_24m' }, code: 'purpose_not_allowed' },
      { why: 'with an unknown purpose', overrides: { '--purpose': 'marketing' }, code: 'invalid_argument' },
      { why: 'signed as a bank (its certificate carries no USCC)', overrides: { '--as': BANK }, code: 'invalid_argument' },
      { why: 'signed as a participant with no key in the keys directory', overrides: { '--as': 'enterprise-nobody' }, code: 'key_material_missing' },
    ];
    const refused = new Map<string, Run>();
    let plain: Run;
    let replacement: GrantOutput;

    before(async function () {
      const [first, ...done] = await Promise.all([
        gateway(['consent', 'grant', ...grantArgs()]),
        ...refusals.map(({ overrides }) => gateway(['consent', 'grant', ...grantArgs(overrides), '--json'])),
      ]);
      plain = first!;
      refusals.forEach(({ why }, n) => refused.set(why, done[n]!));
      const replaced = succeeded(plain).stdout.trim();
      replacement = json<GrantOutput>(succeeded(await gateway(['consent', 'grant', ...grantArgs({ '--replaces': replaced, '--purpose': 'post_loan_management', '--days': '365' }), '--json'])));
    });

    it('prints { id, consent, receipt } with --json: the consent active, for the enterprise\'s USCC, its pack resolved', function () {
      expect(granted.id).to.equal(granted.consent.consent_id);
      expect(granted.consent).to.include({ state: 'active', enterprise: ENTERPRISE, uscc: USCC, bank: BANK, purpose: 'loan_approval', max_uses: 10 });
      expect(granted.consent.questions).to.include.members(['medical_arrears_now', 'medical_arrears_24m', 'water_arrears_now']);
      expect(granted.consent.questions).to.have.length(SOCIAL_INSURANCE_SIZE + 1);
    });

    it('prints a receipt that verifies against the gateway\'s JWKS, naming the consent and its audit index', async function () {
      const jwks = (await (await fetch(`${running.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      const { payload, protectedHeader } = await compactVerify(granted.receipt, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
      expect(protectedHeader.typ).to.equal('gateway-consent-receipt+jwt');
      expect(JSON.parse(Buffer.from(payload).toString('utf8'))).to.include({
        aud: ENTERPRISE, consent_id: granted.id, audit_index: granted.consent.audit_index, artefact_sha256: granted.consent.artefact_sha256,
      });
    });

    it('prints only the new consent id without --json', async function () {
      const id = plain.stdout.trim();
      expect(id).to.match(/^[A-Za-z0-9_-]{16,128}$/);
      expect((await runtime.store.getConsent(id))?.uscc).to.equal(USCC);
    });

    it('replaces an active consent with --replaces', async function () {
      const replaced = plain.stdout.trim();
      expect(replacement.consent).to.include({ state: 'active', replaces: replaced, purpose: 'post_loan_management' });
      expect(await runtime.store.getConsent(replaced)).to.include({ state: 'replaced', replacedBy: replacement.id });
    });

    for (const { why, code } of refusals) {
      it(`exits 1 with ${code} ${why}`, function () {
        const body = failedWith(refused.get(why)!, code);
        // A refusal by the gateway carries its problem, with the same code.
        if (code !== 'invalid_argument' && code !== 'key_material_missing') expect(body.error.problem?.['code']).to.equal(code);
      });
    }
  });

  describe('consent list', function () {
    let asEnterprise: Run;
    let asBank: Run;
    let asOtherEnterprise: Run;
    let asOtherBankText: Run;
    let asBankText: Run;

    before(async function () {
      [asEnterprise, asBank, asOtherEnterprise, asOtherBankText, asBankText] = await Promise.all([
        gateway(['consent', 'list', '--as', ENTERPRISE, '--json']),
        gateway(['consent', 'list', '--as', BANK, '--json']),
        gateway(['consent', 'list', '--as', OTHER_ENTERPRISE, '--json']),
        gateway(['consent', 'list', '--as', OTHER_BANK]),
        gateway(['consent', 'list', '--as', BANK]),
      ]);
    });

    it('shows the consent to the enterprise (--as <enterprise>), and only consents about its USCC', function () {
      const found = json<Consent[]>(succeeded(asEnterprise));
      expect(found.map((consent) => consent.consent_id)).to.include(granted.id);
      expect(found.every((consent) => consent.uscc === USCC)).to.equal(true);
    });

    it('shows the consent to its bank (--as <bank>), and only consents addressed to it', function () {
      const found = json<Consent[]>(succeeded(asBank));
      expect(found.find((consent) => consent.consent_id === granted.id)).to.include({ state: 'active', uscc: USCC });
      expect(found.every((consent) => consent.bank === BANK)).to.equal(true);
    });

    it('shows nothing to another enterprise or another bank', function () {
      expect(json<Consent[]>(succeeded(asOtherEnterprise))).to.deep.equal([]);
      expect(succeeded(asOtherBankText).stdout.trim()).to.equal('no consents');
    });

    it('prints one line per consent without --json', function () {
      const line = succeeded(asBankText).stdout.split('\n').find((text) => text.startsWith(granted.id));
      expect(line).to.include('active').and.include('loan_approval').and.include(`bank ${BANK}`);
    });
  });

  describe('consent accesses', function () {
    let first: AccessesOutput;
    let text: Run;
    let asOtherEnterprise: Run;
    let asBank: Run;

    before(async function () {
      first = json<AccessesOutput>(succeeded(await gateway(['consent', 'accesses', granted.id, '--as', ENTERPRISE, '--json'])));
      [text, asOtherEnterprise, asBank] = await Promise.all([
        gateway(['consent', 'accesses', granted.id, '--as', ENTERPRISE]),
        gateway(['consent', 'accesses', granted.id, '--as', OTHER_ENTERPRISE, '--json']),
        gateway(['consent', 'accesses', granted.id, '--as', BANK, '--json']),
      ]);
    });

    it('lists the grant with its audit index, as the enterprise', function () {
      expect(first.consent_id).to.equal(granted.id);
      expect(first.entries.map((entry) => [entry.index, entry.kind, entry.actor])).to.deep.equal([[granted.consent.audit_index, 'consent.granted', ENTERPRISE]]);
    });

    it('prints one line per entry without --json, the earlier read among them', function () {
      const lines = succeeded(text).stdout.trim().split('\n');
      expect(lines[0]).to.match(new RegExp(`^#${granted.consent.audit_index} .*consent\\.granted +by ${ENTERPRISE}$`));
      expect(lines[1]).to.match(new RegExp(`consent\\.accesses_read +by ${ENTERPRISE}$`));
    });

    it('exits 1 with not_found for another enterprise, and role_not_allowed for the bank', function () {
      failedWith(asOtherEnterprise, 'not_found');
      failedWith(asBank, 'role_not_allowed');
    });
  });

  describe('consent export and consent verify', function () {
    let exported: Run;
    let artefact: string;
    const runs = new Map<string, Run>();

    before(async function () {
      exported = succeeded(await gateway(['consent', 'export', granted.id]));
      artefact = exported.stdout;
      const [header, payload, signature] = artefact.trim().split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      fs.writeFileSync(file('consent.jws'), artefact);
      fs.writeFileSync(file('tampered.jws'), `${header}.${Buffer.from(JSON.stringify({ ...claims, aud: OTHER_BANK })).toString('base64url')}.${signature}\n`);
      fs.writeFileSync(file('not-a-consent.jws'), 'I consent.\n');
      fs.copyFileSync(path.join(root, 'keys', 'ca.cert.pem'), file('platform-ca.cert.pem'));
      fs.writeFileSync(file('other-ca.cert.pem'), createCertificateAuthority({ commonName: 'another root CA' }).certificatePem);
      const commands: Record<string, string[]> = {
        text: ['consent', 'verify', file('consent.jws')],
        withCa: ['consent', 'verify', file('consent.jws'), '--ca', file('platform-ca.cert.pem'), '--json'],
        otherCa: ['consent', 'verify', file('consent.jws'), '--ca', file('other-ca.cert.pem'), '--json'],
        tampered: ['consent', 'verify', file('tampered.jws'), '--json'],
        notConsent: ['consent', 'verify', file('not-a-consent.jws'), '--json'],
        unknown: ['consent', 'export', 'consent-does-not-exist-0001'],
      };
      const done = await Promise.all(Object.values(commands).map((args) => gateway(args)));
      Object.keys(commands).forEach((name, n) => runs.set(name, done[n]!));
    });

    it('exports the artefact as stored, byte for byte, with a newline', async function () {
      expect(artefact).to.equal(`${await runtime.consents.exportArtefact(granted.id)}\n`);
      expect(createHash('sha256').update(artefact.trim()).digest('base64url')).to.equal(granted.consent.artefact_sha256);
    });

    it('verifies the exported file with the keys directory\'s CA certificate: exit 0', function () {
      expect(succeeded(runs.get('text')!).stdout).to.match(new RegExp(`^valid: consent ${granted.id} signed by enterprise ${ENTERPRISE} \\(${USCC}\\) for bank ${BANK}, loan_approval, `));
    });

    it('verifies it with --ca and --json, printing the claims as signed', function () {
      const answer = json<VerifyOutput>(succeeded(runs.get('withCa')!));
      expect(answer.valid).to.equal(true);
      expect(answer.claims).to.include({ jti: granted.id, iss: ENTERPRISE, sub: USCC, aud: BANK, purpose: 'loan_approval', max_uses: 10 });
      expect(answer.claims['questions']).to.deep.equal(['social_insurance', 'water_arrears_now']);
    });

    it('exits 1 with consent_signature_invalid against another CA\'s certificate', function () {
      failedWith(runs.get('otherCa')!, 'consent_signature_invalid');
    });

    it('exits 1 with consent_signature_invalid for a tampered file', function () {
      failedWith(runs.get('tampered')!, 'consent_signature_invalid');
    });

    it('exits 1 with consent_malformed for a file that is not a consent', function () {
      failedWith(runs.get('notConsent')!, 'consent_malformed');
    });

    it('exits 1 naming not_found when exporting an unknown consent', function () {
      const run = runs.get('unknown')!;
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.include('not_found');
    });
  });

  describe('consent revoke', function () {
    let asBank: Run;
    let asOtherEnterprise: Run;
    let revoked: Run;
    let again: Run;
    let accesses: Run;

    before(async function () {
      [asBank, asOtherEnterprise] = await Promise.all([
        gateway(['consent', 'revoke', granted.id, '--as', BANK, '--json']),
        gateway(['consent', 'revoke', granted.id, '--as', OTHER_ENTERPRISE, '--json']),
      ]);
      revoked = await gateway(['consent', 'revoke', granted.id, '--as', ENTERPRISE]);
      [again, accesses] = await Promise.all([
        gateway(['consent', 'revoke', granted.id, '--as', ENTERPRISE, '--json']),
        gateway(['consent', 'accesses', granted.id, '--as', ENTERPRISE, '--json']),
      ]);
    });

    it('exits 1 with role_not_allowed as the bank, and not_found as another enterprise', function () {
      failedWith(asBank, 'role_not_allowed');
      failedWith(asOtherEnterprise, 'not_found');
    });

    it('revokes as the enterprise', async function () {
      expect(succeeded(revoked).stdout.trim()).to.equal(`consent ${granted.id} is revoked`);
      expect(await runtime.consents.stateOf((await runtime.store.getConsent(granted.id))!)).to.equal('revoked');
    });

    it('exits 1 with consent_not_active the second time', function () {
      failedWith(again, 'consent_not_active');
    });

    it('leaves the grant and the revocation in the consent\'s accesses', function () {
      const answer = json<AccessesOutput>(succeeded(accesses));
      expect(answer.state).to.equal('revoked');
      const kinds = answer.entries.map((entry) => entry.kind);
      expect(kinds[0]).to.equal('consent.granted');
      expect(kinds.at(-1)).to.equal('consent.revoked');
      expect(kinds.filter((kind) => kind === 'consent.revoked')).to.have.length(1);
    });
  });

  describe('consent revoke --by-operator', function () {
    let consentId: string;
    let withoutReason: Run;
    let reasonAlone: Run;
    let controlInReason: Run;
    let byOperator: Run;
    let again: Run;

    before(async function () {
      consentId = json<GrantOutput>(succeeded(await gateway(['consent', 'grant', ...grantArgs(), '--json']))).id;
      [withoutReason, reasonAlone, controlInReason] = await Promise.all([
        gateway(['consent', 'revoke', '--by-operator', consentId, '--json']),
        gateway(['consent', 'revoke', consentId, '--as', ENTERPRISE, '--reason', 'why', '--json']),
        gateway(['consent', 'revoke', '--by-operator', consentId, '--reason', 'fraud\u202ereport', '--json']),
      ]);
      byOperator = await gateway(['consent', 'revoke', '--by-operator', consentId, '--reason', 'court order 2026-17', '--json']);
      again = await gateway(['consent', 'revoke', '--by-operator', consentId, '--reason', 'again', '--json']);
    });

    it('exits 1 with invalid_argument without --reason, with --reason alone, and with a bidi character in it, ending nothing', function () {
      for (const run of [withoutReason, reasonAlone, controlInReason]) failedWith(run, 'invalid_argument');
    });

    it('ends the consent, whoever it concerns, and prints it revoked', async function () {
      expect(json<{ consent: Consent }>(succeeded(byOperator)).consent).to.include({ consent_id: consentId, state: 'revoked' });
      expect(await runtime.consents.stateOf((await runtime.store.getConsent(consentId))!)).to.equal('revoked');
    });

    it('records a consent.revoked entry by the operator with the reason', async function () {
      const [entry] = await runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, consentId, kind: 'consent.revoked', limit: 10 });
      expect(JSON.parse(Buffer.from(entry!.entry).toString('utf8'))).to.include({ actor: 'operator', subject: USCC, reason: 'court order 2026-17' });
    });

    it('exits 1 with consent_not_active the second time', function () {
      failedWith(again, 'consent_not_active');
    });
  });

  describe('an auditor saving a checkpoint with `client request` and checking the log with `audit verify`', function () {
    it('saves the note exactly as served, and `audit verify --checkpoint` accepts it', async function () {
      succeeded(await gateway(['participants', 'add', '--role', 'auditor', '--name', '审计', '--id', 'auditor-cli', '--generate', '--json']));
      await runtime.audit.checkpointer.checkpointNow();
      const saved = succeeded(await gateway(['client', 'request', 'GET', '/v1/audit/checkpoint', '--as', 'auditor-cli']));
      expect(saved.stdout).to.match(/\n\n\u2014 [^\n]+\n$/);
      fs.writeFileSync(file('checkpoint.txt'), saved.stdout);
      await runtime.audit.log.flush();
      const verified = succeeded(await gateway(['audit', 'verify', '--checkpoint', file('checkpoint.txt')]));
      // Each root with the tree size it is for: the whole log's, the saved file's, the gateway's own checkpoint file's.
      expect(verified.stdout).to.match(/^audit log OK: [^\n]+\n {2}root of the whole log \(tree size \d+\): \S+\n/);
      const savedLine = verified.stdout.split('\n').find((line) => line.startsWith(`  ${file('checkpoint.txt')} (tree size `));
      expect(savedLine, verified.stdout).to.match(/\(tree size \d+\): root \S+, which the log's first \d+ entries still hash to$/);
    });
  });
});
