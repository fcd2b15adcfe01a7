// Misuse detection on a real gateway (127.0.0.1, port 0) under synthetic traffic: a bank probing random consent ids
// about many enterprises without a loan is flagged (audited, once per window), and with automatic suspension enabled
// it is suspended and refused from its next request; a bank serving its applicants is not flagged; consents granted
// and revoked in a row are churn; without automatic suspension a flag suspends nobody.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createMisuseScanner, loadMisusePolicy } from '../../gateway/misuse/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { uscc } from '../monitoring/support.js';
import { failedWith, json, runCli, succeeded } from '../support/cli.js';
import { expectProblem, refusal } from '../support/problems.js';

const title = { zh: '测试', en: 'test' };
const RULES = {
  version: 7,
  window_hours: 24,
  rules: [
    { id: 'population_scan', kind: 'subjects_without_loan_reference', max_subjects: 15, severity: 'high', suspend: true, title },
    { id: 'probing', kind: 'refusal_rate', min_items: 20, max_rate: 0.5, severity: 'medium', suspend: false, title },
    { id: 'churn', kind: 'consent_churn', max_revoked: 2, severity: 'medium', suspend: false, title },
  ],
};

describe('misuse scan on a running gateway', function () {
  let gateway: TestGateway;
  let policyFile = '';

  before(async () => {
    const dir = fs.mkdtempSync(path.join(process.env['TMPDIR'] ?? '/tmp', 'gateway-misuse-policy-'));
    policyFile = path.join(dir, 'misuse.json');
    fs.writeFileSync(policyFile, JSON.stringify(RULES));
    gateway = await startTestGateway({
      GATEWAY_MISUSE_POLICY: policyFile, GATEWAY_MISUSE_AUTO_SUSPEND: '1', GATEWAY_MISUSE_SCAN_SECONDS: '86400',
      GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000',
    });
  });
  after(async () => {
    await gateway?.stop();
    fs.rmSync(path.dirname(policyFile), { recursive: true, force: true });
  });

  const probe = (bank: EnrolledParticipant, first: number, count: number) => gateway.client(bank).send('POST', '/v1/verifications', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      loan_reference: 'unspecified', officer: 'batch',
      items: Array.from({ length: count }, (_, n) => ({ subject: { uscc: uscc(first + n) }, consent_id: randomUUID(), questions: ['medical_arrears_now'] })),
    }),
  });

  const entry = async (index: number): Promise<Record<string, unknown>> => {
    const [stored] = await gateway.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 });
    return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Record<string, unknown>;
  };

  it('flags a probing bank once per window, suspends it, and leaves a bank serving applicants alone', async () => {
    const [prober, lender, enterprise] = await Promise.all([
      gateway.enrol('bank', { id: 'bank-prober' }), gateway.enrol('bank', { id: 'bank-lender' }), gateway.enrol('enterprise', { uscc: uscc(900) }),
    ]);
    for (const first of [0, 10, 20]) expect((await probe(prober, first, 10)).status).to.equal(200);
    // The lender asks about its one applicant, under a loan, with the applicant's consent.
    const granted = await gateway.client(enterprise).grantConsent({
      uscc: uscc(900), bank: lender.record.participantId, purpose: 'loan_approval', questions: ['medical_arrears_now'], days: 30,
    });
    await gateway.client(lender).askQuestions({ loanReference: 'LN-7', officer: '信贷员', items: [{ uscc: uscc(900), consentId: String(granted.consent['consent_id']), questions: ['medical_arrears_now'] }] });

    const flags = await gateway.runtime.misuse.scan();
    expect(flags.map((flag) => [flag.rule, flag.bank, flag.suspended]).sort()).to.deep.equal([
      ['population_scan', 'bank-prober', true],
      ['probing', 'bank-prober', false],
    ]);
    const scan = flags.find((flag) => flag.rule === 'population_scan')!;
    expect(scan.evidence).to.deep.equal({ subjects: 30, max_subjects: 15 });
    const flagged = await entry(scan.auditIndex);
    expect(flagged).to.include({ kind: 'misuse.flagged', actor: 'gateway', rule: 'population_scan', bank: 'bank-prober', policy_version: 7, suspended: true });
    expect(flagged['policy_sha256']).to.equal(loadMisusePolicy(policyFile).sha256);
    expect(JSON.stringify(flagged), 'a flag names no subject').to.not.include(uscc(0));

    // Suspended by the gateway, with the flag as its reason, and refused from its next request on.
    expect((await gateway.runtime.participants.get('bank-prober'))?.status).to.equal('suspended');
    const changed = (await gateway.runtime.audit.log.entries({ start: scan.auditIndex, end: await gateway.runtime.audit.log.size(), kind: 'participant.status_changed', limit: 10 }))
      .map((stored) => JSON.parse(Buffer.from(stored.entry).toString('utf8')) as Record<string, unknown>);
    expect(changed).to.have.length(1);
    expect(changed[0]).to.include({ actor: 'gateway', participant_id: 'bank-prober', to: 'suspended', reason: `misuse rule population_scan (audit entry ${scan.auditIndex})` });
    expectProblem(await refusal(probe(prober, 40, 1)), 403, 'participant_suspended');

    // The same pattern in the same window is not flagged again, however often it is scanned.
    expect(await gateway.runtime.misuse.scan()).to.deep.equal([]);
    expect((await gateway.runtime.misuse.flags()).map((flag) => flag.rule).sort()).to.deep.equal(['population_scan', 'probing']);
  });

  it('without automatic suspension a flag suspends nobody; consents granted and revoked in a row are churn', async () => {
    const [bank, enterprise] = await Promise.all([gateway.enrol('bank', { id: 'bank-churn' }), gateway.enrol('enterprise', { uscc: uscc(901) })]);
    for (let n = 0; n < 3; n++) {
      const granted = await gateway.client(enterprise).grantConsent({
        uscc: uscc(901), bank: bank.record.participantId, purpose: 'customer_screening', questions: ['medical_arrears_now'], days: 1,
      });
      await gateway.client(enterprise).revokeConsent(String(granted.consent['consent_id']));
    }
    const scanner = createMisuseScanner({
      audit: gateway.runtime.audit.log, participants: gateway.runtime.participants,
      policy: loadMisusePolicy(policyFile), autoSuspend: false,
    });
    const flags = await scanner.scan();
    expect(flags.map((flag) => [flag.rule, flag.bank, flag.suspended])).to.deep.equal([['churn', 'bank-churn', false]]);
    expect(flags[0]?.evidence).to.deep.equal({ revoked: 3, max_revoked: 2 });
    expect((await gateway.runtime.participants.get('bank-churn'))?.status).to.equal('active');
  });

  it('the operator lists the flags and scans from the CLI, beside the serving gateway', async () => {
    const env = { GATEWAY_MISUSE_POLICY: policyFile };
    const listed = json<{ rule: string; bank: string; auditIndex: number }[]>(succeeded(await runCli(gateway.dir, ['misuse', 'flags', '--json'], env)));
    expect(listed.map((flag) => flag.rule).sort()).to.deep.equal(['churn', 'population_scan', 'probing']);
    const human = succeeded(await runCli(gateway.dir, ['misuse', 'flags'], env)).stdout;
    expect(human, human).to.match(/#\d+ +\S+ +population_scan +high +bank-prober +max_subjects=15 subjects=30 +\(bank suspended\)/);
    expect(succeeded(await runCli(gateway.dir, ['misuse', 'scan'], env)).stdout.trim()).to.equal('no new flags');
    failedWith(await runCli(gateway.dir, ['misuse', 'flags', '--since', 'yesterday', '--json'], env), 'invalid_argument');
  });
});
