// Keeps docs/api.md true: walks the guide on a real gateway (127.0.0.1, port 0) as a source, an enterprise, a bank and
// an auditor would, and checks each worked example against what the gateway answers — the same members at every
// level, of the same JSON types, with the same fixed values (status, code, state, kind, type); the checkpoint's
// lines; the member names of every audit entry kind met on the way against the table; and that the guide and the
// OpenAPI document name the same participant endpoints.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { AUDIT_KINDS } from '../../gateway/audit/events.js';
import { packageRoot } from '../../gateway/paths.js';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';

const guide = fs.readFileSync(path.join(packageRoot, 'docs', 'api.md'), 'utf8');
const ENVELOPE = ['v', 'kind', 'at', 'actor', 'subject', 'consent_id'];
const FIXED = new Set(['status', 'code', 'state', 'kind', 'type']);
const OWING = '91350100M000100Y43';
const NOBODY = '91110108722619411A';

/** The example block after `<!-- example:<name> -->`. */
function example(name: string): string {
  const match = new RegExp(`<!-- example:${name} -->\\n\`\`\`(?:json|text)\\n([\\s\\S]*?)\\n\`\`\``).exec(guide);
  expect(match, `example ${name} in docs/api.md`).to.not.equal(null);
  return match![1] as string;
}

const exampleJson = (name: string): unknown => JSON.parse(example(name));

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** Asserts `live` has the example's shape: same members, same types, same fixed values; arrays element by element. */
function expectShape(documented: unknown, live: unknown, where: string, fixedValues = true): void {
  expect(typeOf(live), where).to.equal(typeOf(documented));
  if (Array.isArray(documented) && Array.isArray(live)) {
    if (documented.length === 0 || live.length === 0) return;
    // Elements past the documented ones are checked against the last documented one, for shape only.
    live.forEach((element, index) => expectShape(documented[Math.min(index, documented.length - 1)], element, `${where}[${index}]`,
      fixedValues && index < documented.length));
    return;
  }
  if (typeOf(documented) !== 'object') return;
  const doc = documented as Record<string, unknown>;
  const got = live as Record<string, unknown>;
  expect(Object.keys(got).sort(), where).to.deep.equal(Object.keys(doc).sort());
  for (const [key, value] of Object.entries(doc)) {
    if (fixedValues && FIXED.has(key) && typeof value !== 'object') expect(got[key], `${where}.${key}`).to.equal(value);
    expectShape(value, got[key], `${where}.${key}`, fixedValues);
  }
}

/** The table of entry members: kind → the members it may have besides the envelope. */
function entryMembers(): Map<string, Set<string>> {
  const table = guide.slice(guide.indexOf('<!-- entry-members -->'));
  const rows = new Map<string, Set<string>>();
  for (const line of table.split('\n').slice(3)) {
    if (!line.startsWith('| `')) break;
    const [, kind, members] = line.split('|').map((cell) => cell.trim());
    rows.set(kind!.replace(/`/g, ''), new Set([...members!.matchAll(/`([a-z_0-9]+)`/g)].map((match) => match[1] as string)));
  }
  return rows;
}

describe('docs/api.md', function () {
  let gateway: TestGateway;
  let source: EnrolledParticipant;
  let enterprise: EnrolledParticipant;
  let bank: EnrolledParticipant;
  let auditor: EnrolledParticipant;
  let consentId: string;
  const json = 'application/json';

  before(async function () {
    gateway = await startTestGateway({ GATEWAY_CHECKPOINT_INTERVAL_MS: '200' });
    source = await gateway.enrol('source', { datasets: ['medical_insurance_arrears'] });
    enterprise = await gateway.enrol('enterprise', { uscc: OWING });
    bank = await gateway.enrol('bank');
    auditor = await gateway.enrol('auditor');
    const [year, month] = todayInShanghai().split('-');
    await gateway.client(source).ingest('medical_insurance_arrears',
      `enterprise_name,uscc,arrears_period,arrears_amount\n济南明德机械有限公司,${OWING},${year}-${month},1200.50\n`, { format: 'csv' });
  });

  after(async function () {
    await gateway?.stop();
  });

  it('shows a problem as the gateway sends one', async function () {
    const response = await fetch(`${gateway.url}/v1/consents`);
    expectShape(exampleJson('problem'), await response.json(), 'problem');
  });

  it('shows the discovery document', async function () {
    const response = await fetch(`${gateway.url}/.well-known/credit-gateway`);
    expectShape(exampleJson('discovery'), await response.json(), 'discovery');
  });

  it('shows the grant request and its answer (step 1), and the bank reads the same consent with its artefact (step 2)', async function () {
    const token = (await gateway.client(enterprise).grantConsent({
      uscc: OWING, bank: bank.record.participantId, purpose: 'loan_approval', questions: ['medical_arrears_now'], days: 30,
    })).receipt;
    expect(token).to.be.a('string');
    // The request body as the client sends it, and a grant's answer, read again by submitting a second consent by hand.
    const { signConsent } = await import('../../gateway/client/client.js');
    const consent = await signConsent(enterprise.credentials, { uscc: OWING, bank: bank.record.participantId, purpose: 'loan_approval', questions: ['medical_arrears_now'], days: 30 });
    const body = { consent };
    expectShape(exampleJson('grant-request'), body, 'grant-request');
    const answer = (await gateway.client(enterprise).send('POST', '/v1/consents', { body: JSON.stringify(body), headers: { 'content-type': json } })).json<{ consent: { consent_id: string } }>();
    expectShape(exampleJson('grant-answer'), answer, 'grant-answer');
    consentId = answer.consent.consent_id;
    const read = (await gateway.client(bank).send('GET', `/v1/consents/${consentId}`)).json<Record<string, unknown>>();
    expectShape({ ...(exampleJson('grant-answer') as { consent: object }).consent, artefact: 'jws' }, read, 'GET /v1/consents/{id}');
  });

  it('shows the verification request and its answer (step 3)', async function () {
    const request = {
      loan_reference: 'LN-2025-000417', officer: '信贷员 王芳',
      items: [
        { subject: { uscc: OWING }, consent_id: consentId, questions: ['medical_arrears_now'] },
        { subject: { uscc: NOBODY }, consent_id: randomUUID(), questions: ['medical_arrears_now'] },
      ],
    };
    expectShape(exampleJson('verification-request'), request, 'verification-request');
    const response = await gateway.client(bank).send('POST', '/v1/verifications', { body: JSON.stringify(request), headers: { 'content-type': json } });
    expectShape(exampleJson('verification-answer'), response.json(), 'verification-answer');
    expect(response.headers['audit-index']).to.match(/^\d+$/);
  });

  it('shows the score request and its answer (step 9), under a consent naming an approved scorecard', async function () {
    const scorecard = {
      id: 'sme_working_capital', version: 1, title: 'SME working capital', purposes: ['loan_approval'], intercept: 500,
      features: [
        { question: 'medical_arrears_now', question_version: 1, reason_code: 'ARREARS_NOW', bins: [{ answers: [false], points: 60 }, { answers: [true], points: -80 }, { answers: ['unknown'], points: 0 }] },
        { question: 'medical_arrears_24m', question_version: 1, reason_code: 'ARREARS_24M', bins: [{ answers: [false], points: 30 }, { answers: [true], points: -20 }, { answers: ['unknown'], points: 0 }] },
      ],
      grades: [{ grade: 'A', min_points: 560 }, { grade: 'B', min_points: 500 }, { grade: 'C', min_points: 440 }, { grade: 'D' }],
    };
    await gateway.client(bank).send('POST', '/v1/scorecards', { body: JSON.stringify(scorecard), headers: { 'content-type': json } });
    await gateway.runtime.scorecards.decide('sme_working_capital', 1, { approve: true, releaseScore: false });
    const granted = await gateway.client(enterprise).grantConsent({
      uscc: OWING, bank: bank.record.participantId, purpose: 'loan_approval', questions: ['scorecard.sme_working_capital.v1'], days: 30,
    });
    const request = {
      loan_reference: 'LN-2026-0017', officer: '信贷员 李明',
      items: [{ subject: { uscc: OWING }, consent_id: String(granted.consent['consent_id']), scorecard: { id: 'sme_working_capital', version: 1 } }],
    };
    expectShape(exampleJson('score-request'), request, 'score-request');
    const response = await gateway.client(bank).send('POST', '/v1/scores', { body: JSON.stringify(request), headers: { 'content-type': json } });
    expectShape(exampleJson('score-answer'), response.json(), 'score-answer');
  });

  it('shows the subscription request and its answer (step 4), and the alert feed', async function () {
    const granted = await gateway.client(enterprise).grantConsent({
      uscc: OWING, bank: bank.record.participantId, purpose: 'post_loan_management', questions: ['risk_monitoring'], days: 30,
    });
    const request = { consent_id: String(granted.consent['consent_id']), subject: { uscc: OWING } };
    expectShape(exampleJson('subscription-request'), request, 'subscription-request');
    const answer = (await gateway.client(bank).send('POST', '/v1/subscriptions', { body: JSON.stringify(request), headers: { 'content-type': json } })).json();
    expectShape(exampleJson('subscription-answer'), answer, 'subscription-answer');
    const feed = (await gateway.client(bank).send('GET', '/v1/alerts')).json<Record<string, unknown>>();
    expect(Object.keys(feed).sort()).to.deep.equal(['events', 'next_cursor']);
  });

  it('shows the accesses under a consent (step 5)', async function () {
    const answer = (await gateway.client(enterprise).send('GET', `/v1/consents/${consentId}/accesses`)).json();
    expectShape(exampleJson('accesses'), answer, 'accesses');
  });

  describe('the log (step 6)', function () {
    let treeSize: number;

    before(async function () {
      // The checkpoint lags the log by GATEWAY_CHECKPOINT_INTERVAL_MS: poll until it covers what was done above.
      const size = await gateway.runtime.audit.log.size();
      for (let attempt = 0; attempt < 100 && ((await gateway.runtime.audit.store.latestCheckpoint())?.treeSize ?? 0) < size; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });

    it('shows the checkpoint as the auditor receives it: origin, tree size, root, blank line, signature lines', async function () {
      const text = (await gateway.client(auditor).send('GET', '/v1/audit/checkpoint')).body.toString('utf8');
      const documented = example('checkpoint').split('\n');
      const lines = text.trimEnd().split('\n');
      expect(lines[0]).to.equal(gateway.config.auditOrigin);
      expect(documented[0]).to.equal('credit-gateway.local/audit');
      for (const body of [documented, lines]) {
        expect(body[1]).to.match(/^\d+$/);
        expect(Buffer.from(body[2] as string, 'base64')).to.have.length(32);
        expect(body[3]).to.equal('');
        expect(body[4]).to.match(/^— \S+ [A-Za-z0-9+/]+=*$/);
      }
      treeSize = Number(lines[1]);
    });

    it('shows entries, each the leaf bytes as a string', async function () {
      const answer = (await gateway.client(auditor).send('GET', '/v1/audit/entries?limit=1000')).json<{ entries: { entry: string }[] }>();
      expectShape(exampleJson('entries'), answer, 'entries');
      for (const found of answer.entries) expect(JSON.parse(found.entry)).to.be.an('object');
    });

    it('shows an inclusion and a consistency proof', async function () {
      const inclusion = (await gateway.client(auditor).send('GET', `/v1/audit/proofs/inclusion?index=1&tree_size=${treeSize}`)).json();
      expectShape(exampleJson('inclusion'), inclusion, 'inclusion');
      const consistency = (await gateway.client(auditor).send('GET', `/v1/audit/proofs/consistency?first=2&second=${treeSize}`)).json();
      expectShape(exampleJson('consistency'), consistency, 'consistency');
    });

    it('lists every entry kind, and for every entry met on the way only members its row names', async function () {
      const table = entryMembers();
      expect([...table.keys()].sort()).to.deep.equal([...AUDIT_KINDS].sort());
      const answer = (await gateway.client(auditor).send('GET', '/v1/audit/entries?limit=1000')).json<{ entries: { entry: string }[] }>();
      const seen = new Set<string>();
      for (const found of answer.entries) {
        const entry = JSON.parse(found.entry) as Record<string, unknown> & { kind: string };
        seen.add(entry.kind);
        const allowed = table.get(entry.kind) as Set<string>;
        for (const member of Object.keys(entry).filter((name) => !ENVELOPE.includes(name))) {
          expect(allowed.has(member), `${entry.kind}: member ${member} is in the table`).to.equal(true);
        }
      }
      expect([...seen]).to.include.members(['participant.added', 'ingest.batch', 'consent.granted', 'verification.answered', 'verification.unmatched',
        'verification.signed', 'subscription.created', 'consent.accesses_read', 'audit.read']);
    });
  });

  const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

  it('has request-signing.md and operations.md name exactly the unsigned endpoints of GET /openapi.json as public', async function () {
    const document = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security: unknown[] }>> };
    const unsigned = Object.entries(document.paths).flatMap(([route, operations]) =>
      // A path item also holds its shared `parameters`: only the methods are operations.
      Object.entries(operations).filter(([method, operation]) => HTTP_METHODS.has(method) && operation.security.length === 0)
        .map(([method]) => `${method.toUpperCase()} ${route}`));
    const signing = fs.readFileSync(path.join(packageRoot, 'docs', 'request-signing.md'), 'utf8');
    const sentence = /documents are not signed: ([\s\S]*?)\. A participant/.exec(signing)?.[1] ?? '';
    const listed = [...sentence.matchAll(/`(?:(GET|POST) )?(\/[^`]+)`/g)].map((match) => `${match[1] ?? 'GET'} ${match[2] as string}`);
    expect(listed.sort()).to.deep.equal(unsigned.sort());
    const operations = fs.readFileSync(path.join(packageRoot, 'docs', 'operations.md'), 'utf8');
    const publicLine = /- Public: ([\s\S]*?)\n- Signed/.exec(operations)?.[1] ?? '';
    const publicListed = [...publicLine.matchAll(/`(GET|POST) (\/[^`]+)`/g)].map((match) => `${match[1] as string} ${match[2] as string}`);
    // operations.md lists the health endpoints apart, under `GET /healthz`, `/readyz` and `/metrics`.
    expect(publicListed.sort()).to.deep.equal(unsigned.filter((route) => !/healthz|readyz|metrics/.test(route)).sort());
  });

  it('names the same participant endpoints as GET /openapi.json', async function () {
    const document = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as { paths: Record<string, object> };
    // Path templates compared with their parameter names left out: the guide says {id} where the document says {consentId}.
    const template = (route: string) => route.replace(/\{[^}]*\}/g, '{}');
    const documented = Object.keys(document.paths).filter((route) => route.startsWith('/v1/') || route.startsWith('/.well-known/')).map(template);
    const named = new Set([...guide.matchAll(/`(?:GET|POST|DELETE) (\/[^`?\s]+)/g)].map((match) => template(match[1] as string)));
    for (const route of documented) expect([...named], route).to.include(route);
    const all = Object.keys(document.paths).map(template);
    for (const route of named) expect(all, route).to.include(route);
  });
});
