// Pins the operator's metrics on a real server (127.0.0.1, port 0): verification items answered and refused by code,
// problems by route and code, ingestion refusals and invalid rows, the audit log's size and checkpoint age, the
// alert outbox by state, and the replay cache. Labels name codes, datasets and routes, never ids.
import { expect } from 'chai';
import { arrearsCsv } from '../monitoring/support.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { metricsText, samples, valueOf } from '../support/metrics.js';

const USCC = '91350100M000100Y43';
const DATASET = 'medical_insurance_arrears';

describe('GET /metrics: what an operator watches', function () {
  let gateway: TestGateway;
  let bank: EnrolledParticipant;
  let text: string;
  let consentId: string;
  let auditSizeAtScrape: number;

  before(async function () {
    gateway = await startTestGateway();
    const source = await gateway.enrol('source');
    const enterprise = await gateway.enrol('enterprise', { uscc: USCC });
    bank = await gateway.enrol('bank');
    const bankClient = gateway.client(bank);

    // One batch refused for two invalid rows.
    await gateway.client(source).ingest(DATASET, `${arrearsCsv([{ uscc: USCC, amount: '1.00' }]).split('\n')[0]}\nx,${USCC},2026-13,1\ny,${USCC},2026-14,1\n`, { format: 'csv' })
      .then(() => expect.fail('the invalid batch was accepted'), (error: unknown) => expect(error).to.have.property('code', 'invalid_rows'));

    // One item answered, one refused, in one request; a post-loan consent watched, and then arrears stored, whose
    // alert waits in the outbox (the bank has no webhook).
    const granted = await gateway.client(enterprise).grantConsent({ uscc: USCC, bank: bank.record.participantId, purpose: 'post_loan_management', questions: ['risk_monitoring'], days: 30 });
    consentId = String(granted.consent['consent_id']);
    await bankClient.askQuestions({
      loanReference: 'LN-1', officer: 'ops',
      items: [{ uscc: USCC, consentId, questions: ['medical_arrears_now'] }, { uscc: USCC, consentId: 'no-such-consent-0123456789', questions: ['medical_arrears_now'] }],
    });
    await bankClient.send('POST', '/v1/subscriptions', {
      body: JSON.stringify({ consent_id: consentId, subject: { uscc: USCC }, rules: ['medical_arrears_appeared'] }), headers: { 'content-type': 'application/json' },
    });
    await gateway.client(source).ingest(DATASET, arrearsCsv([{ uscc: USCC, amount: '12.00', period: '2026-02' }]), { format: 'csv' });

    // Refused whole: unsigned.
    await (await fetch(`${gateway.url}/v1/verifications`, { method: 'POST', body: '{}' })).arrayBuffer();
    await gateway.runtime.audit.checkpointer.checkpointNow();
    auditSizeAtScrape = await gateway.runtime.audit.log.size();
    text = await metricsText(gateway.url);
  });

  after(async function () {
    await gateway?.stop();
  });

  it('counts verification items answered and refused, by refusal code', function () {
    expect(valueOf(text, 'gateway_verification_items_total', { outcome: 'answered', code: '' })).to.equal(1);
    expect(valueOf(text, 'gateway_verification_items_total', { outcome: 'refused', code: 'consent_missing' })).to.equal(1);
  });

  it('counts problems by route template and code', function () {
    expect(valueOf(text, 'gateway_problems_total', { route: '/v1/verifications', code: 'signature_missing' })).to.equal(1);
    expect(valueOf(text, 'gateway_problems_total', { route: '/v1/ingest/:dataset', code: 'invalid_rows' })).to.equal(1);
  });

  it('counts refused batches by code and their invalid rows', function () {
    expect(valueOf(text, 'gateway_ingest_batches_refused_total', { dataset: DATASET, code: 'invalid_rows' })).to.equal(1);
    expect(valueOf(text, 'gateway_ingest_invalid_rows_total', { dataset: DATASET })).to.equal(2);
  });

  it('shows the audit log\'s size and the latest checkpoint\'s size and age', function () {
    expect(valueOf(text, 'gateway_audit_log_entries')).to.equal(auditSizeAtScrape);
    expect(valueOf(text, 'gateway_audit_checkpoint_tree_size')).to.equal(auditSizeAtScrape);
    const age = valueOf(text, 'gateway_audit_checkpoint_age_seconds');
    expect(age).to.be.a('number').and.at.least(0).and.below(600);
  });

  it('shows the alert outbox by state, dead letters included, and the replay cache', function () {
    expect(valueOf(text, 'gateway_alert_outbox_events', { state: 'pending' })).to.equal(1);
    expect(valueOf(text, 'gateway_alert_outbox_events', { state: 'dead' })).to.equal(0);
    // Every signed request above: two ingests, a consent, a verification, a subscription.
    expect(valueOf(text, 'gateway_replay_cache_entries')).to.be.at.least(5);
  });

  it('labels nothing with an id', function () {
    const labels = ['gateway_verification_items_total', 'gateway_problems_total', 'gateway_ingest_batches_refused_total', 'gateway_alert_outbox_events']
      .flatMap((name) => samples(text, name)).flatMap((sample) => Object.values(sample.labels));
    expect(labels.filter((value) => value.includes(consentId) || value.includes(USCC) || value.includes(bank.record.participantId))).to.deep.equal([]);
  });
});
