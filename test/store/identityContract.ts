/**
 * The storage contract of participants and request bookkeeping (IdentityStore in gateway/store/store.ts) as a suite
 * any engine must pass.
 */
import { expect } from 'chai';
import type { Store } from '../../gateway/store/index.js';
import type { StoreFactory } from './contract.js';
import { enterprise, participant, USCC } from './fixtures.js';
import { rejection } from '../support/problems.js';

const OTHER_USCC = '91350100M000200Y22';

export function identityStoreContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract, identity: ${engine}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.dispose();
    });

    it('stores a participant as given and reads it back by id', async () => {
      const source = participant('src-1', 'source', { datasets: ['water_accounts', 'medical_insurance_arrears'] });
      await store.addParticipant(source);
      expect(await store.getParticipant('src-1')).to.deep.equal(source);
      expect(await store.getParticipant('nobody')).to.equal(undefined);
    });

    it('refuses a second participant with the same id, or with the same certificate, and stores nothing of it', async () => {
      await store.addParticipant(participant('bank-1', 'bank'));
      expect((await rejection(store.addParticipant(participant('bank-1', 'bank', { certificateSha256: 'another' })))).code).to.equal('participant_exists');
      expect((await store.getParticipant('bank-1'))?.certificateSha256).to.equal('sha256-of-bank-1');
      expect((await rejection(store.addParticipant(participant('bank-2', 'bank', { certificateSha256: 'sha256-of-bank-1' })))).code)
        .to.equal('participant_exists');
      expect(await store.getParticipant('bank-2')).to.equal(undefined);
    });

    it('lets one enterprise participant that is not revoked act for a USCC, and a replacement revoke the old one atomically', async () => {
      await store.addParticipant(enterprise('ent-a'));
      expect((await rejection(store.addParticipant(enterprise('ent-b')))).code).to.equal('participant_exists');
      expect(await store.getParticipant('ent-b')).to.equal(undefined);
      await store.setParticipantStatus('ent-a', 'suspended', '2026-11-26T00:00:00.000Z');
      expect((await rejection(store.addParticipant(enterprise('ent-b')))).code).to.equal('participant_exists');
      expect((await store.enterpriseForUscc(USCC))?.participantId).to.equal('ent-a');
      await store.addParticipant(enterprise('ent-b', USCC, { createdAt: '2026-11-27T00:00:00.000Z' }), 'ent-a');
      expect(await store.getParticipant('ent-a')).to.include({ status: 'revoked', statusChangedAt: '2026-11-27T00:00:00.000Z' });
      expect((await store.enterpriseForUscc(USCC))?.participantId).to.equal('ent-b');
      // Revoked, the USCC is free again.
      await store.setParticipantStatus('ent-b', 'revoked', '2026-11-28T00:00:00.000Z');
      expect(await store.enterpriseForUscc(USCC)).to.equal(undefined);
      await store.addParticipant(enterprise('ent-d'));
      expect((await store.enterpriseForUscc(USCC))?.participantId).to.equal('ent-d');
    });

    it('refuses a replacement of a participant that is not there or already revoked, adding nothing and revoking nothing', async () => {
      await store.addParticipant(enterprise('ent-a'));
      expect((await rejection(store.addParticipant(enterprise('ent-b', OTHER_USCC), 'nobody'))).code).to.equal('invalid_status_change');
      expect(await store.getParticipant('ent-b')).to.equal(undefined);
      await store.addParticipant(enterprise('ent-b'), 'ent-a');
      expect((await rejection(store.addParticipant(enterprise('ent-c'), 'ent-a'))).code).to.equal('invalid_status_change');
      expect(await store.getParticipant('ent-c')).to.equal(undefined);
      expect((await store.getParticipant('ent-b'))?.status).to.equal('active');
    });

    it('rolls a replacement back whole when the new participant is refused: the replaced one stays as it was', async () => {
      await store.addParticipant(enterprise('ent-a'));
      await store.addParticipant(participant('bank-1', 'bank'));
      expect((await rejection(store.addParticipant(enterprise('bank-1'), 'ent-a'))).code).to.equal('participant_exists');
      expect((await store.getParticipant('ent-a'))?.status).to.equal('active');
      expect((await store.getParticipant('bank-1'))?.role).to.equal('bank');
    });

    it('finds the enterprise of a USCC whatever other participants exist, and none for a USCC nobody acts for', async () => {
      await store.addParticipant(enterprise('ent-a'));
      await store.addParticipant(enterprise('ent-other', OTHER_USCC));
      await store.addParticipant(participant('bank-1', 'bank'));
      expect((await store.enterpriseForUscc(OTHER_USCC))?.participantId).to.equal('ent-other');
      expect(await store.enterpriseForUscc('91350100M000300Y11')).to.equal(undefined);
    });

    it('lists participants in the order they were created, ties by id', async () => {
      await store.addParticipant(participant('bank-2', 'bank', { createdAt: '2026-11-25T00:00:02.000Z' }));
      await store.addParticipant(participant('src-1', 'source', { createdAt: '2026-11-25T00:00:01.000Z' }));
      await store.addParticipant(participant('bank-1', 'bank', { createdAt: '2026-11-25T00:00:02.000Z' }));
      expect((await store.listParticipants()).map((found) => found.participantId)).to.deep.equal(['src-1', 'bank-1', 'bank-2']);
    });

    it('shows a status change to the next read from another connection', async () => {
      await store.addParticipant(participant('bank-1', 'bank'));
      const other = await factory.reopen();
      try {
        expect((await other.getParticipant('bank-1'))?.status).to.equal('active');
        await store.setParticipantStatus('bank-1', 'suspended', '2026-11-26T00:00:00.000Z');
        expect(await other.getParticipant('bank-1')).to.include({ status: 'suspended', statusChangedAt: '2026-11-26T00:00:00.000Z' });
        await other.setParticipantStatus('bank-1', 'active', '2026-11-27T00:00:00.000Z');
        expect((await store.getParticipant('bank-1'))?.status).to.equal('active');
      } finally {
        await other.close();
      }
    });

    it('says of each remembered request whether it is new, per participant, a repeat inside one call included', async () => {
      expect(await store.rememberRequests([
        { participantId: 'bank-1', jti: 'j1', expiresAt: 2000 },
        { participantId: 'bank-1', jti: 'j2', expiresAt: 2000 },
        { participantId: 'bank-1', jti: 'j1', expiresAt: 2000 },
        { participantId: 'bank-2', jti: 'j1', expiresAt: 2000 },
      ], 1000)).to.deep.equal([true, true, false, true]);
      expect(await store.rememberRequests([{ participantId: 'bank-1', jti: 'j2', expiresAt: 2000 }, { participantId: 'bank-1', jti: 'j3', expiresAt: 2000 }], 1001))
        .to.deep.equal([false, true]);
      expect(await store.countRememberedRequests()).to.equal(4);
      expect(await store.rememberRequests([], 1002)).to.deep.equal([]);
    });

    it('forgets the requests that expired before now at the next remember, and then takes their ids as new', async () => {
      await store.rememberRequests([{ participantId: 'bank-1', jti: 'short', expiresAt: 1100 }, { participantId: 'bank-1', jti: 'long', expiresAt: 5000 }], 1000);
      expect(await store.countRememberedRequests()).to.equal(2);
      expect(await store.rememberRequests([{ participantId: 'bank-1', jti: 'next', expiresAt: 5000 }], 2000)).to.deep.equal([true]);
      expect(await store.countRememberedRequests()).to.equal(2);
      expect(await store.rememberRequests([{ participantId: 'bank-1', jti: 'short', expiresAt: 5000 }, { participantId: 'bank-1', jti: 'long', expiresAt: 5000 }], 2001))
        .to.deep.equal([true, false]);
    });

    it('sees a request remembered on one connection as not new on another, and keeps it across a reopen', async () => {
      const other = await factory.reopen();
      try {
        expect(await store.rememberRequests([{ participantId: 'bank-1', jti: 'j1', expiresAt: 5000 }], 1000)).to.deep.equal([true]);
        expect(await other.rememberRequests([{ participantId: 'bank-1', jti: 'j1', expiresAt: 5000 }], 1000)).to.deep.equal([false]);
      } finally {
        await other.close();
      }
      await store.close();
      store = await factory.reopen();
      expect(await store.rememberRequests([{ participantId: 'bank-1', jti: 'j1', expiresAt: 5000 }], 1000)).to.deep.equal([false]);
      expect(await store.countRememberedRequests()).to.equal(1);
    });

    it('gives `true` to exactly one of two connections racing to remember the same request id', async () => {
      const other = await factory.reopen();
      try {
        const jtis = Array.from({ length: 20 }, (_, n) => `j${n}`);
        const answers = await Promise.all(jtis.flatMap((jti) => [store, other].map(async (connection) =>
          (await connection.rememberRequests([{ participantId: 'bank-1', jti, expiresAt: 5000 }], 1000))[0])));
        for (let n = 0; n < jtis.length; n++) expect([answers[2 * n], answers[2 * n + 1]].filter(Boolean), jtis[n]).to.have.length(1);
        expect(await store.countRememberedRequests()).to.equal(jtis.length);
      } finally {
        await other.close();
      }
    });

    it('keeps the first response saved for an idempotency key and ignores a second, per participant', async () => {
      const first = { requestSha256: 'sha-1', status: 201, body: '{"first":true}' };
      expect(await store.findIdempotentResponse('bank-1', 'key-1')).to.equal(undefined);
      await store.saveIdempotentResponse('bank-1', 'key-1', first, '2026-11-26T00:00:00.000Z');
      await store.saveIdempotentResponse('bank-1', 'key-1', { requestSha256: 'sha-2', status: 500, body: '{}' }, '2026-11-26T00:00:01.000Z');
      expect(await store.findIdempotentResponse('bank-1', 'key-1')).to.deep.equal(first);
      expect(await store.findIdempotentResponse('bank-2', 'key-1')).to.equal(undefined);
      await store.close();
      store = await factory.reopen();
      expect(await store.findIdempotentResponse('bank-1', 'key-1')).to.deep.equal(first);
    });
  });
}
