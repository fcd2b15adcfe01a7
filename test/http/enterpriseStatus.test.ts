// Pins what an enterprise participant's status does to its consents, on a real gateway (127.0.0.1, port 0), as a
// bank sees it: revoking the enterprise ends its consents (they read revoked, answers are refused, the bank's
// subscriptions end with a consent.revoked event, each ending audited as the operator's); suspending it pauses them
// (suspended, refused, nothing ended) until it is resumed; the operator can end one consent, with a reason in the
// log. And one enterprise participant per USCC: a second is refused, and re-enrolment replaces the first, whose
// certificate stops being honoured while the USCC's consents go on.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { SIGNED_TYPES } from '../../gateway/signing/signer.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { expectProblem, refusal } from '../support/problems.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { usccCheckCharacter } from '../../gateway/identifiers/index.js';

const ARREARS_NOW = 'medical_arrears_now';
let usccs = 0;
/** A fresh valid USCC for each enterprise. */
function nextUscc(): string {
  const first17 = `91370100MB${String(++usccs).padStart(7, '0')}`;
  return `${first17}${usccCheckCharacter(first17)}`;
}

type Entry = Record<string, unknown> & { kind: string; actor: string };

describe('an enterprise participant\'s status and its consents', function () {
  let gateway: TestGateway;
  let bank: EnrolledParticipant;

  before(async function () {
    gateway = await startTestGateway({ GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000' });
    bank = await gateway.enrol('bank');
  });

  after(async function () {
    await gateway?.stop();
  });

  async function enterprise(): Promise<EnrolledParticipant & { uscc: string }> {
    const uscc = nextUscc();
    return { ...(await gateway.enrol('enterprise', { uscc })), uscc };
  }

  async function grant(by: EnrolledParticipant & { uscc: string }, purpose: 'loan_approval' | 'post_loan_management' = 'loan_approval'): Promise<string> {
    const granted = await gateway.client(by).grantConsent({
      uscc: by.uscc, bank: bank.record.participantId, purpose, questions: purpose === 'loan_approval' ? [ARREARS_NOW] : ['risk_monitoring'], days: 30,
    });
    return String(granted.consent['consent_id']);
  }

  async function ask(uscc: string, consentId: string): Promise<{ status: string; code?: string }> {
    const { verified } = await gateway.client(bank).askQuestions({ loanReference: 'LN-1', officer: 'o', items: [{ uscc, consentId, questions: [ARREARS_NOW] }] });
    return (verified.claims['items'] as { status: string; code?: string }[])[0] as { status: string; code?: string };
  }

  const stateSeenByBank = async (consentId: string) =>
    (await gateway.client(bank).send('GET', `/v1/consents/${consentId}`)).json<{ state: string }>().state;

  async function entriesAbout(consentId: string, kind: string): Promise<Entry[]> {
    return await (await gateway.runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, consentId, kind, limit: 100 }))
      .map((stored) => JSON.parse(Buffer.from(stored.entry).toString('utf8')) as Entry);
  }

  describe('revoked by the operator (`participants revoke`)', function () {
    let revoked: EnrolledParticipant & { uscc: string };
    let consentId: string;
    let monitored: string;
    let subscriptionId: string;

    before(async function () {
      revoked = await enterprise();
      consentId = await grant(revoked);
      monitored = await grant(revoked, 'post_loan_management');
      const subscribed = await gateway.client(bank).send('POST', '/v1/subscriptions', {
        body: JSON.stringify({ consent_id: monitored, subject: { uscc: revoked.uscc } }), headers: { 'content-type': 'application/json' },
      });
      subscriptionId = subscribed.json<{ subscription_id: string }>().subscription_id;
      expect(await ask(revoked.uscc, consentId)).to.include({ status: 'answered' });
      await gateway.runtime.participants.changeStatus(revoked.record.participantId, 'revoke');
    });

    it('refuses the bank\'s next question under its consent: consent_not_active', async function () {
      expect(await ask(revoked.uscc, consentId)).to.deep.include({ status: 'refused', code: 'consent_not_active' });
    });

    it('shows the bank its consents as revoked, with ended_at', async function () {
      for (const id of [consentId, monitored]) expect(await stateSeenByBank(id)).to.equal('revoked');
      const view = (await gateway.client(bank).send('GET', `/v1/consents/${consentId}`)).json<{ ended_at: string | null }>();
      expect(view.ended_at).to.be.a('string');
    });

    it('ends the bank\'s subscription with a signed consent.revoked event in its feed', async function () {
      const feed = (await gateway.client(bank).send('GET', '/v1/alerts')).json<{ events: { type: string; alert: string }[] }>();
      const ending = feed.events.find((event) => event.type === 'consent.revoked');
      expect(ending, 'a consent.revoked event').to.not.equal(undefined);
      const { claims } = await gateway.client(bank).verify(ending!.alert, SIGNED_TYPES.alert);
      expect(claims).to.include({ type: 'consent.revoked', consent_id: monitored, subscription_id: subscriptionId, reason: 'revoked' });
      const subscriptions = (await gateway.client(bank).send('GET', '/v1/subscriptions')).json<{ subscriptions: { subscription_id: string; state: string }[] }>();
      expect(subscriptions.subscriptions.find((found) => found.subscription_id === subscriptionId)?.state).to.equal('ended');
    });

    it('records each ending as the operator\'s consent.revoked, about the enterprise, with the reason', async function () {
      for (const id of [consentId, monitored]) {
        const [ending] = (await entriesAbout(id, 'consent.revoked'));
        expect(ending).to.include({ actor: 'operator', subject: revoked.uscc, consent_id: id, bank: bank.record.participantId, reason: 'enterprise_revoked' });
      }
    });
  });

  describe('suspended, then resumed', function () {
    let paused: EnrolledParticipant & { uscc: string };
    let consentId: string;

    before(async function () {
      paused = await enterprise();
      consentId = await grant(paused);
      await gateway.runtime.participants.changeStatus(paused.record.participantId, 'suspend');
    });

    it('pauses its consents: they read suspended and answers are refused consent_not_active, and nothing is ended', async function () {
      expect(await stateSeenByBank(consentId)).to.equal('suspended');
      expect(await ask(paused.uscc, consentId)).to.deep.include({ status: 'refused', code: 'consent_not_active' });
      expect((await gateway.runtime.store.getConsent(consentId))?.state).to.equal('active');
      expect(await entriesAbout(consentId, 'consent.revoked')).to.deep.equal([]);
    });

    it('resumes them when the enterprise is resumed', async function () {
      await gateway.runtime.participants.changeStatus(paused.record.participantId, 'resume');
      expect(await stateSeenByBank(consentId)).to.equal('active');
      expect(await ask(paused.uscc, consentId)).to.include({ status: 'answered' });
    });
  });

  describe('one consent ended by the operator (`consent revoke --by-operator <id> --reason …`)', function () {
    it('ends it for the bank, audited as the operator\'s with the reason, and leaves the enterprise\'s other consents alone', async function () {
      const owner = await enterprise();
      const ended = await grant(owner);
      const kept = await grant(owner);
      const view = await gateway.runtime.consents.revokeByOperator(ended, 'court order 2026-17');
      expect(view.state).to.equal('revoked');
      expect(await ask(owner.uscc, ended)).to.deep.include({ status: 'refused', code: 'consent_not_active' });
      expect(await ask(owner.uscc, kept)).to.include({ status: 'answered' });
      const [ending] = (await entriesAbout(ended, 'consent.revoked'));
      expect(ending).to.include({ actor: 'operator', subject: owner.uscc, reason: 'court order 2026-17' });
      // The enterprise sees it in its own view of its consent.
      const accesses = (await gateway.client(owner).send('GET', `/v1/consents/${ended}/accesses`)).json<{ state: string; entries: { kind: string; actor: string }[] }>();
      expect(accesses.state).to.equal('revoked');
      expect(accesses.entries.map((found) => [found.kind, found.actor])).to.deep.include(['consent.revoked', 'operator']);
    });

    it('refuses an ended consent (consent_not_active) and an unknown id (not_found)', async function () {
      const owner = await enterprise();
      const consentId = await grant(owner);
      await gateway.runtime.consents.revokeByOperator(consentId, 'first');
      for (const [id, code] of [[consentId, 'consent_not_active'], [randomUUID(), 'not_found']] as const) {
        let thrown: unknown;
        try {
          await gateway.runtime.consents.revokeByOperator(id, 'again');
        } catch (error) {
          thrown = error;
        }
        expect(thrown).to.be.instanceOf(GatewayError).with.property('code', code);
      }
    });
  });

  describe('a second enterprise participant for a USCC that already has one', function () {
    // The attack: enrol "enterprise-2" with the USCC of enterprise-1, then read, revoke and grant its consents.
    it('is refused participant_exists, and nothing is registered', async function () {
      const first = await enterprise();
      const size = await gateway.runtime.audit.log.size();
      let thrown: unknown;
      try {
        await gateway.enrol('enterprise', { id: 'enterprise-usurper', uscc: first.uscc });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(GatewayError).with.property('code', 'participant_exists');
      expect(String((thrown as Error).message)).to.include(`--replaces ${first.record.participantId}`);
      expect(await gateway.runtime.participants.get('enterprise-usurper')).to.equal(undefined);
      expect(await gateway.runtime.audit.log.size()).to.equal(size);
    });
  });

  describe('re-enrolment (`participants add --replaces <old>`)', function () {
    let old: EnrolledParticipant & { uscc: string };
    let renewed: EnrolledParticipant;
    let consentId: string;

    before(async function () {
      old = await enterprise();
      consentId = await grant(old);
      renewed = await gateway.enrol('enterprise', { uscc: old.uscc, replaces: old.record.participantId });
    });

    it('revokes the old participant: its certificate is no longer honoured (401 participant_revoked)', async function () {
      expect((await gateway.runtime.participants.get(old.record.participantId))?.status).to.equal('revoked');
      expectProblem(await refusal(gateway.client(old).send('GET', '/v1/consents')), 401, 'participant_revoked');
    });

    it('keeps the USCC\'s consents: the bank is still answered, and the new participant sees and can revoke them', async function () {
      expect(await ask(old.uscc, consentId)).to.include({ status: 'answered' });
      const listed = (await gateway.client(renewed).send('GET', '/v1/consents')).json<{ consents: { consent_id: string }[] }>();
      expect(listed.consents.map((consent) => consent.consent_id)).to.include(consentId);
      const revoked = await gateway.client(renewed).revokeConsent(consentId);
      expect(revoked.consent['state']).to.equal('revoked');
    });

    it('records the replacement: the old one\'s status change names its successor, the new one names what it replaces', async function () {
      const changes = await (await gateway.runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, kind: 'participant.status_changed', subject: old.uscc, limit: 10 }))
        .map((stored) => JSON.parse(Buffer.from(stored.entry).toString('utf8')) as Entry);
      expect(changes.at(-1)).to.include({ participant_id: old.record.participantId, to: 'revoked', replaced_by: renewed.record.participantId });
      const added = await (await gateway.runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, kind: 'participant.added', subject: old.uscc, limit: 10 }))
        .map((stored) => JSON.parse(Buffer.from(stored.entry).toString('utf8')) as Entry);
      expect(added.at(-1)).to.include({ participant_id: renewed.record.participantId, replaces: old.record.participantId });
    });

    it('refuses --replaces naming a participant that does not act for the USCC', async function () {
      const other = await enterprise();
      let thrown: unknown;
      try {
        await gateway.enrol('enterprise', { uscc: other.uscc, replaces: renewed.record.participantId });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(GatewayError).with.property('code', 'invalid_argument');
    });
  });

});
