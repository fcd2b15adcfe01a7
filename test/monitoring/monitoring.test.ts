import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'mocha';
import { GatewayClientError } from '../../gateway/client/client.js';
import type { GatewayClient } from '../../gateway/client/client.js';
import { DATABASE_FILE } from '../../gateway/runtime/index.js';
import { SIGNED_TYPES } from '../../gateway/signing/signer.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { startReceiver } from './receiver.js';
import type { Receiver } from './receiver.js';
import { arrearsCsv, consentAndSubscribe, uscc } from './support.js';

const FAST_RETRIES = {
  GATEWAY_ALERT_POLL_MS: '50', GATEWAY_ALERT_RETRY_BASE_MS: '50', GATEWAY_ALERT_RETRY_MAX_MS: '200',
  // The receivers listen on loopback, which a webhook may reach only when the operator allows it.
  GATEWAY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
};
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Party {
  readonly participant: EnrolledParticipant;
  readonly client: GatewayClient;
}

describe('risk monitoring', function () {
  let gateway: TestGateway;
  let source: GatewayClient;
  let batches = 0;
  const ingest = (rows: Parameters<typeof arrearsCsv>[0]) =>
    source.ingest('medical_insurance_arrears', arrearsCsv(rows), { format: 'csv', batchId: `arrears-${++batches}` });

  async function party(role: 'bank' | 'enterprise', subject?: string): Promise<Party> {
    const participant = await gateway.enrol(role, subject ? { uscc: subject } : {});
    return { participant, client: gateway.client(participant) };
  }

  async function bankWithReceiver(): Promise<Party & { receiver: Receiver }> {
    const bank = await party('bank');
    const receiver = await startReceiver();
    const webhook = await gateway.runtime.configureWebhook(bank.participant.record.participantId, { url: receiver.url });
    receiver.secret = webhook.secret;
    return { ...bank, receiver };
  }

  /** Verifies the alert JWS with the JWKS, for this bank, and returns its claims. */
  async function claimsOf(bank: Party, jws: string) {
    return (await bank.client.verify(jws, SIGNED_TYPES.alert)).claims;
  }

  before(async function () {
    gateway = await startTestGateway(FAST_RETRIES);
    const enrolled = await gateway.enrol('source', { datasets: ['medical_insurance_arrears'] });
    source = gateway.client(enrolled);
  });
  after(async () => gateway?.stop());

  describe('POST /v1/subscriptions', function () {
    it('refuses a consent that is not for post-loan management with purpose_not_allowed', async function () {
      const subject = uscc(1);
      const enterprise = await party('enterprise', subject);
      const bank = await party('bank');
      const granted = await enterprise.client.grantConsent({
        uscc: subject, bank: bank.participant.record.participantId, purpose: 'loan_approval', questions: ['medical_arrears_now'], days: 30,
      });
      await assert.rejects(bank.client.send('POST', '/v1/subscriptions', {
        body: JSON.stringify({ consent_id: granted.consent['consent_id'], subject: { uscc: subject } }), headers: { 'content-type': 'application/json' },
      }), (error: GatewayClientError) => error.code === 'purpose_not_allowed');
    });

    it('refuses another bank\'s consent with consent_missing and an unknown rule with monitor_rule_unknown', async function () {
      const subject = uscc(2);
      const enterprise = await party('enterprise', subject);
      const bank = await party('bank');
      const other = await party('bank');
      const granted = await enterprise.client.grantConsent({
        uscc: subject, bank: bank.participant.record.participantId, purpose: 'post_loan_management', questions: ['risk_monitoring'], days: 30,
      });
      const body = (rules?: string[]) => ({
        body: JSON.stringify({ consent_id: granted.consent['consent_id'], subject: { uscc: subject }, ...(rules ? { rules } : {}) }),
        headers: { 'content-type': 'application/json' },
      });
      await assert.rejects(other.client.send('POST', '/v1/subscriptions', body()), (error: GatewayClientError) => error.code === 'consent_missing');
      await assert.rejects(bank.client.send('POST', '/v1/subscriptions', body(['no_such_rule'])), (error: GatewayClientError) => error.code === 'monitor_rule_unknown');
      const created = await bank.client.send('POST', '/v1/subscriptions', body(['medical_arrears_appeared']));
      assert.equal(created.status, 201);
      await assert.rejects(bank.client.send('POST', '/v1/subscriptions', body()), (error: GatewayClientError) => error.code === 'subscription_exists');
      const listed = (await bank.client.send('GET', '/v1/subscriptions')).json<{ subscriptions: { subscription_id: string; state: string }[] }>();
      assert.deepEqual(listed.subscriptions.map((s) => s.state), ['active']);
      const ended = (await bank.client.send('DELETE', `/v1/subscriptions/${listed.subscriptions[0]!.subscription_id}`)).json<{ state: string; end_reason: string }>();
      assert.deepEqual([ended.state, ended.end_reason], ['ended', 'ended_by_bank']);
      await assert.rejects(other.client.send('DELETE', `/v1/subscriptions/${listed.subscriptions[0]!.subscription_id}`), (error: GatewayClientError) => error.code === 'not_found');
    });
    it('refuses another bank\'s consent with consent_missing at once while the consent\'s lock is held', async function () {
      const subject = uscc(3);
      const enterprise = await party('enterprise', subject);
      const bank = await party('bank');
      const other = await party('bank');
      const granted = await enterprise.client.grantConsent({
        uscc: subject, bank: bank.participant.record.participantId, purpose: 'post_loan_management', questions: ['risk_monitoring'], days: 30,
      });
      const consentId = String(granted.consent['consent_id']);
      let release!: () => void;
      const holding = gateway.runtime.consents.exclusive(consentId, () => new Promise<void>((resolve) => {
        release = resolve;
      }));
      try {
        // Were the lock taken first, this would wait until release().
        await assert.rejects(other.client.send('POST', '/v1/subscriptions', {
          body: JSON.stringify({ consent_id: consentId, subject: { uscc: subject } }), headers: { 'content-type': 'application/json' },
        }), (error: GatewayClientError) => error.code === 'consent_missing');
      } finally {
        release();
        await holding;
      }
    });
  });

  describe('alerts', function () {
    it('delivers one verified, signed alert per change and none for unchanged data', async function () {
      const subject = uscc(10);
      const enterprise = await party('enterprise', subject);
      const bank = await bankWithReceiver();
      await consentAndSubscribe(enterprise.client, bank.client, subject, bank.participant.record.participantId);

      await ingest([{ uscc: subject, amount: '1200.50' }]);
      await bank.receiver.waitFor(1);
      // The same answer again (still in arrears, another period), then settled (no rule fires on true → false).
      await ingest([{ uscc: subject, amount: '1200.50' }, { uscc: subject, amount: '300.00', period: '2025-02' }]);
      await ingest([{ uscc: subject, amount: '0' }, { uscc: subject, amount: '0', period: '2025-02' }]);
      await ingest([{ uscc: subject, amount: '99.00', period: '2025-03' }]);
      await bank.receiver.waitFor(2);
      await settle(400);
      assert.equal(bank.receiver.unique.length, 2);
      assert.equal(bank.receiver.rejected, 0);

      const claims = await Promise.all(bank.receiver.unique.map((delivery) => claimsOf(bank, delivery.body)));
      for (const [index, claim] of claims.entries()) {
        assert.equal(claim['type'], 'alert');
        assert.equal(claim['jti'], bank.receiver.unique[index]!.id, 'the webhook-id is the JWS jti');
        assert.equal(claim['rule'], 'medical_arrears_appeared');
        assert.equal(claim['severity'], 'high');
        assert.deepEqual((claim['subject'] as { uscc: string }).uscc, subject);
        assert.equal((claim['question'] as { id: string }).id, 'medical_arrears_now');
        assert.equal(claim['new_answer'], true);
        assert.match(String(claim['data_as_of']), /^\d{4}-\d{2}-\d{2}$/);
        // Never a value: no amount, no period appears anywhere in the alert.
        const text = JSON.stringify(claim);
        assert.ok(!text.includes('1200.50') && !text.includes('99.00') && !text.includes('2025-0'), text);
      }
      assert.deepEqual(claims.map((claim) => claim['old_answer']), ['unknown', false]);

      // The pull feed serves the same bytes, in order, and an audit entry exists for each.
      const feed = (await bank.client.send('GET', '/v1/alerts')).json<{ events: { event_id: string; alert: string }[]; next_cursor: string }>();
      assert.deepEqual(feed.events.map((event) => event.alert), bank.receiver.unique.map((delivery) => delivery.body));
      const empty = (await bank.client.send('GET', `/v1/alerts?after=${feed.next_cursor}`)).json<{ events: unknown[] }>();
      assert.equal(empty.events.length, 0);
      const raised = await (await gateway.runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, limit: 100_000 }))
        .filter((entry) => entry.kind === 'alert.raised' && Buffer.from(entry.entry).toString('utf8').includes(subject));
      assert.equal(raised.length, 2);
      await bank.receiver.close();
    });

    it('delivers every alert once the receiver is back after being down', async function () {
      const bank = await bankWithReceiver();
      bank.receiver.down = true;
      const subjects = [uscc(20), uscc(21), uscc(22)];
      for (const subject of subjects) {
        const enterprise = await party('enterprise', subject);
        await consentAndSubscribe(enterprise.client, bank.client, subject, bank.participant.record.participantId);
      }
      await ingest(subjects.map((subject) => ({ uscc: subject, amount: '10.00' })));
      await settle(600);
      assert.equal(bank.receiver.unique.length, 0);
      const pending = await gateway.runtime.monitoring.listEvents({ state: 'pending', bankId: bank.participant.record.participantId }, 10);
      assert.equal(pending.length, 3);
      assert.ok(pending.every((event) => event.attempts >= 1 && event.last_error?.startsWith('HTTP 503')), JSON.stringify(pending));
      bank.receiver.down = false;
      await bank.receiver.waitFor(3);
      const uscсs = await Promise.all(bank.receiver.unique.map(async (delivery) => ((await claimsOf(bank, delivery.body))['subject'] as { uscc: string }).uscc));
      assert.deepEqual([...uscсs].sort(), [...subjects].sort());
      await bank.receiver.close();
    });

    it('never tells a bank about another bank\'s borrowers', async function () {
      const first = await bankWithReceiver();
      const second = await bankWithReceiver();
      const a = uscc(30);
      const b = uscc(31);
      await consentAndSubscribe((await party('enterprise', a)).client, first.client, a, first.participant.record.participantId);
      await consentAndSubscribe((await party('enterprise', b)).client, second.client, b, second.participant.record.participantId);
      await ingest([{ uscc: a, amount: '5.00' }, { uscc: b, amount: '6.00' }]);
      await first.receiver.waitFor(1);
      await second.receiver.waitFor(1);
      await settle(300);
      for (const [bank, subject] of [[first, a], [second, b]] as const) {
        assert.equal(bank.receiver.unique.length, 1);
        assert.equal(((await claimsOf(bank, bank.receiver.unique[0]!.body))['subject'] as { uscc: string }).uscc, subject);
        const feed = (await bank.client.send('GET', '/v1/alerts')).json<{ events: { alert: string }[] }>();
        assert.equal(feed.events.length, 1);
        // Signed for this bank only: the other bank's client refuses it as addressed to someone else.
        const other = bank === first ? second : first;
        await assert.rejects(claimsOf(other, feed.events[0]!.alert), /another participant/);
      }
      await first.receiver.close();
      await second.receiver.close();
    });

    it('ends the subscription on revocation: a consent.revoked event and no further alerts', async function () {
      const subject = uscc(40);
      const enterprise = await party('enterprise', subject);
      const bank = await bankWithReceiver();
      const { consentId, subscription } = await consentAndSubscribe(enterprise.client, bank.client, subject, bank.participant.record.participantId);
      await enterprise.client.revokeConsent(consentId);
      await bank.receiver.waitFor(1);
      const claims = await claimsOf(bank, bank.receiver.unique[0]!.body);
      assert.deepEqual([claims['type'], claims['reason'], claims['consent_id'], claims['subscription_id']], ['consent.revoked', 'revoked', consentId, subscription.subscription_id]);
      await ingest([{ uscc: subject, amount: '77.00' }]);
      await settle(400);
      assert.equal(bank.receiver.unique.length, 1);
      const listed = (await bank.client.send('GET', '/v1/subscriptions')).json<{ subscriptions: { state: string; end_reason: string }[] }>();
      assert.deepEqual(listed.subscriptions.map((s) => [s.state, s.end_reason]), [['ended', 'revoked']]);
      await bank.receiver.close();
    });

    it('ends the subscription when its consent is replaced: a consent.revoked event with reason replaced', async function () {
      const subject = uscc(41);
      const enterprise = await party('enterprise', subject);
      const bank = await bankWithReceiver();
      const { consentId, subscription } = await consentAndSubscribe(enterprise.client, bank.client, subject, bank.participant.record.participantId);
      await enterprise.client.grantConsent({
        uscc: subject, bank: bank.participant.record.participantId, purpose: 'post_loan_management', questions: ['risk_monitoring'], days: 60, replaces: consentId,
      });
      await bank.receiver.waitFor(1);
      const claims = await claimsOf(bank, bank.receiver.unique[0]!.body);
      assert.deepEqual([claims['type'], claims['reason'], claims['consent_id'], claims['subscription_id']], ['consent.revoked', 'replaced', consentId, subscription.subscription_id]);
      await ingest([{ uscc: subject, amount: '78.00' }]);
      await settle(400);
      assert.equal(bank.receiver.unique.length, 1, 'no alert under the replaced consent');
      await bank.receiver.close();
    });

    it('ends the subscription when its consent expires: the sweep sends consent.expired, and ingestion raises nothing', async function () {
      this.timeout(20_000);
      const subject = uscc(42);
      const enterprise = await party('enterprise', subject);
      const bank = await bankWithReceiver();
      const { consentId, subscription } = await consentAndSubscribe(enterprise.client, bank.client, subject, bank.participant.record.participantId);
      // Time passing, without waiting days: the consent's expiry moves into the past, as the clock would move it.
      const db = new Database(path.join(gateway.config.dataDir, DATABASE_FILE));
      try {
        db.prepare('UPDATE consents SET expires_at = ? WHERE consent_id = ?').run(Math.floor(Date.now() / 1000) - 1, consentId);
      } finally {
        db.close();
      }
      await ingest([{ uscc: subject, amount: '79.00' }]);
      await bank.receiver.waitFor(1);
      const claims = await claimsOf(bank, bank.receiver.unique[0]!.body);
      assert.deepEqual([claims['type'], claims['consent_id'], claims['subscription_id']], ['consent.expired', consentId, subscription.subscription_id]);
      await settle(400);
      assert.equal(bank.receiver.unique.length, 1, 'no alert under the expired consent');
      await bank.receiver.close();
    });
  });
});

describe('alert dead-letter and replay', function () {
  it('dead-letters after the horizon and delivers again on replay', async function () {
    const gateway = await startTestGateway({ ...FAST_RETRIES, GATEWAY_ALERT_RETRY_HORIZON_SECONDS: '1' });
    try {
      const source = gateway.client(await gateway.enrol('source', { datasets: ['medical_insurance_arrears'] }));
      const subject = uscc(50);
      const enterprise = await gateway.enrol('enterprise', { uscc: subject });
      const bank = await gateway.enrol('bank');
      const receiver = await startReceiver();
      receiver.secret = (await gateway.runtime.configureWebhook(bank.record.participantId, { url: receiver.url })).secret;
      receiver.down = true;
      await consentAndSubscribe(gateway.client(enterprise), gateway.client(bank), subject, bank.record.participantId);
      await source.ingest('medical_insurance_arrears', arrearsCsv([{ uscc: subject, amount: '1.00' }]), { format: 'csv' });
      let dead: { event_id: string }[] = [];
      for (let i = 0; i < 60 && dead.length === 0; i++) {
        await settle(100);
        dead = await gateway.runtime.monitoring.listEvents({ state: 'dead' }, 10);
      }
      assert.equal(dead.length, 1);
      receiver.down = false;
      assert.deepEqual(await gateway.runtime.monitoring.replay('all_dead'), [dead[0]!.event_id]);
      await receiver.waitFor(1);
      assert.equal(receiver.unique[0]!.id, dead[0]!.event_id);
      await receiver.close();
    } finally {
      await gateway.stop();
    }
  });
});
