// Pins webhook targets on a real gateway (127.0.0.1, port 0): registration refuses a URL whose host resolves to an
// address a webhook may not reach (loopback without the operator's leave), each delivery checks the host again and
// is refused, not sent, once DNS points it somewhere forbidden (rebinding), and a delivery connects to the address
// that was checked — a host name the system resolver has never heard of reaches the receiver, with its own name in
// the Host header.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { openWebhookSecret } from '../../gateway/identity/webhooks.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { GatewayError } from '../../gateway/errors/index.js';
import type { Resolver } from '../../gateway/identity/webhookTarget.js';
import { startTestGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { startReceiver } from './receiver.js';
import type { Receiver } from './receiver.js';
import { arrearsCsv, consentAndSubscribe, uscc } from './support.js';
import { rejection } from '../support/rejection.js';

const FAST = { GATEWAY_ALERT_POLL_MS: '50', GATEWAY_ALERT_RETRY_BASE_MS: '50', GATEWAY_ALERT_RETRY_MAX_MS: '200' };

describe('webhook targets', function () {
  describe('with the default configuration (no allowed networks)', function () {
    let gateway: TestGateway;
    let receiver: Receiver;

    before(async function () {
      gateway = await startTestGateway(FAST);
      receiver = await startReceiver();
    });

    after(async function () {
      await receiver?.close();
      await gateway?.stop();
    });


    it('refuses a receiver on loopback (the gateway\'s own host), by address and by name, storing nothing', async function () {
      const bank = await gateway.enrol('bank');
      for (const url of [receiver.url, receiver.url.replace('127.0.0.1', 'localhost'), `${gateway.url}/v1/ingest/water_accounts`]) {
        let thrown: unknown;
        try {
          await gateway.runtime.configureWebhook(bank.record.participantId, { url });
        } catch (error) {
          thrown = error;
        }
        expect(thrown, url).to.be.instanceOf(GatewayError).with.property('code', 'invalid_argument');
        expect(String((thrown as Error).message)).to.match(/loopback/);
      }
      expect(await gateway.runtime.store.getWebhook(bank.record.participantId)).to.equal(undefined);
    });
  });

  describe('with a host that the test\'s DNS resolves, and that later rebinds', function () {
    let gateway: TestGateway;
    let receiver: Receiver;
    /** What hooks.bank.example resolves to now. */
    let answer = '127.0.0.1';
    const resolveHost: Resolver = async (hostname) => {
      if (hostname !== 'hooks.bank.example') throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return [{ address: answer, family: 4 }];
    };

    before(async function () {
      gateway = await startTestGateway({ ...FAST, GATEWAY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32' }, { resolveHost });
      receiver = await startReceiver();
    });

    after(async function () {
      await receiver?.close();
      await gateway?.stop();
    });

    it('delivers to the checked address: a name only the gateway\'s resolver knows reaches the receiver', async function () {
      const bank = await gateway.enrol('bank');
      const enterprise = await gateway.enrol('enterprise', { uscc: uscc(501) });
      const source = gateway.client(await gateway.enrol('source', { datasets: ['medical_insurance_arrears'] }));
      const url = receiver.url.replace('127.0.0.1', 'hooks.bank.example');
      receiver.secret = (await gateway.runtime.configureWebhook(bank.record.participantId, { url })).secret;
      await consentAndSubscribe(gateway.client(enterprise), gateway.client(bank), uscc(501), bank.record.participantId);
      await source.ingest('medical_insurance_arrears', arrearsCsv([{ uscc: uscc(501), amount: '100.00' }]), { format: 'csv', batchId: 'rebind-1' });
      await receiver.waitFor(1);
      expect(receiver.unique).to.have.length(1);
    });

    it('refuses the next delivery once the host resolves to an address outside the allowed networks, connecting nowhere', async function () {
      const bank = await gateway.enrol('bank');
      const enterprise = await gateway.enrol('enterprise', { uscc: uscc(502) });
      const source = gateway.client(await gateway.enrol('source', { datasets: ['medical_insurance_arrears'] }));
      receiver.secret = (await gateway.runtime.configureWebhook(bank.record.participantId, { url: receiver.url.replace('127.0.0.1', 'hooks.bank.example') })).secret;
      await consentAndSubscribe(gateway.client(enterprise), gateway.client(bank), uscc(502), bank.record.participantId);
      const before = receiver.received;
      // DNS rebinding: the name now points at the cloud metadata address.
      answer = '169.254.169.254';
      await source.ingest('medical_insurance_arrears', arrearsCsv([{ uscc: uscc(502), amount: '200.00' }]), { format: 'csv', batchId: 'rebind-2' });
      const failed = await waitForFailure(gateway, bank.record.participantId);
      expect(failed).to.match(/169\.254\.169\.254 is linkLocal/);
      expect(receiver.received).to.equal(before);
      answer = '127.0.0.1';
    });
  });
});

describe('webhook signing secrets at rest', function () {
  it('are never in the database files in the clear, and one an older gateway stored so is sealed when the gateway opens', async function () {
    const gateway = await startTestGateway({ GATEWAY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32' });
    const dataDir = gateway.config.dataDir;
    let issued = '';
    // The secret's own bytes (the schema's comments say "whsec_" too).
    const inTheClear = () => fs.readdirSync(dataDir).filter((file) => fs.readFileSync(path.join(dataDir, file)).includes(issued.slice('whsec_'.length)));
    try {
      const bank = await gateway.enrol('bank');
      issued = (await gateway.runtime.configureWebhook(bank.record.participantId, { url: 'http://127.0.0.1:9/hook' })).secret as string;
      expect(issued).to.match(/^whsec_/);
      const stored = (await gateway.runtime.store.getWebhook(bank.record.participantId))!;
      expect(stored.secret).to.match(/^sealed:/);
      expect(await openWebhookSecret(gateway.runtime.keyring, stored)).to.equal(issued);
      // Sealed for this bank: moved to another participant's row, it does not open.
      await rejection(openWebhookSecret(gateway.runtime.keyring, { ...stored, participantId: 'bank-other' }));
      expect(inTheClear()).to.deep.equal([]);

      // What an older gateway left: the secret in the clear.
      await gateway.runtime.store.setWebhook({ ...stored, secret: issued });
      expect(inTheClear()).to.not.deep.equal([]);
      await gateway.running.stop();
      const reopened = (await openRuntime(gateway.config));
      try {
        const resealed = (await reopened.store.getWebhook(bank.record.participantId))!;
        expect(resealed.secret).to.match(/^sealed:/);
        expect((await openWebhookSecret(reopened.keyring, resealed))).to.equal(issued);
      } finally {
        await reopened.close();
      }
    } finally {
      fs.rmSync(gateway.dir, { recursive: true, force: true });
    }
  });
});

/** The last_error of the bank's first event, once a delivery has failed. */
async function waitForFailure(gateway: TestGateway, bankId: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const [event] = await gateway.runtime.store.listEvents({ bankId }, 0, 10);
    if (event?.lastError) return event.lastError;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no delivery failed');
}
