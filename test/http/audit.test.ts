// Pins the audit endpoints on a real gateway (127.0.0.1, port 0), read through the typed client as an auditor, an
// enterprise, a bank and a source would: the checkpoint note opens with the published note key and names the
// configured origin; entries page (limit, next_start, start, end) and filter (participant, subject, kind, consent,
// from, to) and are canonical JSON whose leaf hashes the served inclusion proofs verify; inclusion proofs for every
// index of a ~40-entry tree and consistency proofs between several sizes verify with the independent bigint
// verifier against the checkpoint's root; bad parameters are 400 invalid_argument; a bank or source is 403
// role_not_allowed everywhere; an enterprise reads only the entries about its USCC, and the checkpoint (the portal checks proofs against it); every
// successful read is itself exactly one `audit.read` entry by the reader, at the index in `Audit-Index`; and no
// entry carries a record value.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { parseCheckpoint } from '../../gateway/audit/checkpoint.js';
import type { Checkpoint } from '../../gateway/audit/checkpoint.js';
import { ProofError, verifyConsistency, verifyInclusion } from '../../gateway/audit/verify.js';
import type { GatewayClient, GatewayResponse } from '../../gateway/client/client.js';
import { openNote, parseVerifierKey } from '../../gateway/crypto/note.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { expectProblem, refusal } from '../support/problems.js';

const DATASET = 'medical_insurance_arrears';
/** The record values of every batch below; none of them may appear in an audit entry. */
const ENTERPRISE_NAME = '济南明德机械有限公司';
const AMOUNT = '73519.26';
const AMOUNT_IN_FEN = '7351926';
const USCC = '91350100M000100Y43';
const OTHER_USCC = '91110108722619411A';
const BATCHES = 8;
/** The tree size whose every index gets an inclusion proof. */
const PROVEN_SIZE = 40;

interface EntriesPage {
  readonly tree_size: number;
  readonly entries: ReadonlyArray<{ readonly index: number; readonly entry: string }>;
  readonly next_start: number | null;
}

interface InclusionAnswer {
  readonly leaf_index: number;
  readonly tree_size: number;
  readonly leaf_hash: string;
  readonly proof: readonly string[];
  readonly root_hash: string;
}

interface ConsistencyAnswer {
  readonly first_size: number;
  readonly second_size: number;
  readonly first_root: string;
  readonly second_root: string;
  readonly proof: readonly string[];
}

type Entry = Record<string, unknown> & { readonly kind: string; readonly actor: string; readonly at: string; readonly subject?: string };

const fromBase64 = (text: string) => Buffer.from(text, 'base64');

/** SHA-256(0x00 ‖ entry), computed here rather than by the gateway's own hashing module. */
function leafHashOf(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(Uint8Array.of(0)).update(bytes).digest();
}

/**
 * RFC 8785 (JCS) for the values audit entries hold (strings, safe integers, booleans, null, arrays, objects):
 * members sorted by UTF-16 code units, ECMAScript JSON serialisation of strings and numbers, no whitespace.
 */
function jcs(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${jcs((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

function arrearsCsv(period: string): string {
  return `enterprise_name,uscc,arrears_period,arrears_amount\n${ENTERPRISE_NAME},${USCC},${period},${AMOUNT}\n`;
}


describe('audit endpoints (/v1/audit/*)', function () {
  let gateway: TestGateway;
  let source: EnrolledParticipant;
  let auditor: EnrolledParticipant;
  let bank: EnrolledParticipant;
  let enterprise: EnrolledParticipant;
  let otherEnterprise: EnrolledParticipant;
  const clients = new Map<EnrolledParticipant, GatewayClient>();

  const clientOf = (participant: EnrolledParticipant) => clients.get(participant) as GatewayClient;
  const size = async () => gateway.runtime.audit.log.size();
  /** An entry as stored, read in-process (reading it over HTTP would add an entry). */
  const storedEntry = async (index: number): Promise<Entry> => {
    const [stored] = await gateway.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 });
    expect(stored, `entry ${index}`).to.not.equal(undefined);
    return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Entry;
  };

  /**
   * A successful read as `reader`, checking that it added exactly one entry: an `audit.read` by the reader (about its
   * USCC when it is an enterprise), at the index the `Audit-Index` header names.
   */
  async function read(reader: EnrolledParticipant, target: string): Promise<GatewayResponse> {
    const before = await size();
    const response = await clientOf(reader).send('GET', target);
    expect(response.status).to.equal(200);
    expect(await size(), `entries added by GET ${target}`).to.equal(before + 1);
    expect(response.headers['audit-index']).to.equal(String(before));
    const entry = await storedEntry(before);
    expect(entry.kind).to.equal('audit.read');
    expect(entry.actor).to.equal(reader.record.participantId);
    expect(entry['endpoint']).to.equal(target.split('?')[0]);
    // An enterprise's read is about itself; an auditor's read is about the subject it filtered by, if any.
    const filtered = new URLSearchParams(target.split('?')[1] ?? '').get('subject') ?? undefined;
    expect(entry.subject).to.equal(reader.record.role === 'enterprise' ? reader.record.uscc : filtered);
    return response;
  }

  const page = async (reader: EnrolledParticipant, query: string) => (await read(reader, `/v1/audit/entries?${query}`)).json<EntriesPage>();
  const parsed = (found: EntriesPage) => found.entries.map((item) => JSON.parse(item.entry) as Entry);
  const inclusion = async (reader: EnrolledParticipant, index: number, treeSize: number) =>
    (await read(reader, `/v1/audit/proofs/inclusion?index=${index}&tree_size=${treeSize}`)).json<InclusionAnswer>();
  const consistency = async (reader: EnrolledParticipant, first: number, second: number) =>
    (await read(reader, `/v1/audit/proofs/consistency?first=${first}&second=${second}`)).json<ConsistencyAnswer>();

  async function noteVerifierKey(): Promise<string> {
    const response = await fetch(`${gateway.url}/v1/audit/note-key`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('audit-index')).to.equal(null);
    return (await response.text()).trimEnd();
  }

  async function checkpoint(): Promise<Checkpoint> {
    const response = await read(auditor, '/v1/audit/checkpoint');
    expect(response.headers['content-type']).to.match(/^text\/plain/);
    const opened = openNote(response.body, [parseVerifierKey(await noteVerifierKey())]);
    return parseCheckpoint(opened.text);
  }

  /** Adds entries (reads by the auditor) until the log holds at least `wanted`. */
  async function growTo(wanted: number): Promise<void> {
    while ((await size()) < wanted) await read(auditor, '/v1/audit/entries?limit=1');
  }

  before(async function () {
    // Checkpoints only when a test asks for one (or the endpoint finds none), so sizes are predictable.
    gateway = await startTestGateway({ GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000' });
    source = await gateway.enrol('source');
    auditor = await gateway.enrol('auditor');
    bank = await gateway.enrol('bank');
    enterprise = await gateway.enrol('enterprise', { uscc: USCC });
    otherEnterprise = await gateway.enrol('enterprise', { uscc: OTHER_USCC });
    for (const participant of [source, auditor, bank, enterprise, otherEnterprise]) clients.set(participant, gateway.client(participant));
    for (let month = 1; month <= BATCHES; month++) {
      const result = await clientOf(source).ingest(DATASET, arrearsCsv(`2025-${String(month).padStart(2, '0')}`), { format: 'csv', asOf: '2026-01-31' });
      expect(result.status).to.equal(201);
    }
  });

  after(async function () {
    await gateway?.stop();
  });

  describe('GET /v1/audit/note-key', function () {
    it('serves the note verifier key unsigned, named after the configured origin, as /.well-known/credit-gateway publishes it', async function () {
      const key = await noteVerifierKey();
      expect(parseVerifierKey(key).name).to.equal(gateway.config.auditOrigin);
      const discovery = (await (await fetch(`${gateway.url}/.well-known/credit-gateway`)).json()) as { audit_log: { origin: string; note_verifier_key: string } };
      expect(discovery.audit_log.note_verifier_key).to.equal(key);
      expect(discovery.audit_log.origin).to.equal(gateway.config.auditOrigin);
    });
  });

  describe('GET /v1/audit/checkpoint', function () {
    describe('as an auditor', function () {
      it('answers a checkpoint note that opens with the published key and names the configured origin', async function () {
        const latest = await checkpoint();
        expect(latest.origin).to.equal(gateway.config.auditOrigin);
        expect(latest.size > 0n).to.equal(true);
        expect(Number(latest.size)).to.be.at.most((await size()));
        expect(latest.extensionLines).to.deep.equal([]);
      });

      it('carries the root that inclusion proofs at its size lead to', async function () {
        const latest = await checkpoint();
        const treeSize = Number(latest.size);
        const answer = await inclusion(auditor, treeSize - 1, treeSize);
        expect(fromBase64(answer.root_hash).equals(latest.rootHash)).to.equal(true);
      });

      it('serves the newest checkpoint once a new one is made', async function () {
        const made = await gateway.runtime.audit.checkpointer.checkpointNow();
        const latest = await checkpoint();
        expect(Number(latest.size)).to.equal(made?.treeSize);
        expect(latest.rootHash.equals(await gateway.runtime.audit.log.rootAt(Number(latest.size)))).to.equal(true);
      });
    });

    describe('as an enterprise', function () {
      it('answers the same checkpoint note, and records the read as about the enterprise (the portal checks its proofs against it)', async function () {
        const before = await size();
        const response = await clientOf(enterprise).send('GET', '/v1/audit/checkpoint');
        expect(parseCheckpoint(response.body.toString('utf8').split('\n\n')[0] + '\n').origin).to.equal(gateway.config.auditOrigin);
        expect(await size()).to.equal(before + 1);
        const [read] = await gateway.runtime.audit.log.entries({ start: before, end: before + 1, limit: 1 });
        expect(read!.subject).to.equal(enterprise.record.uscc);
      });
    });

    for (const role of ['bank', 'source'] as const) {
      describe(`as a ${role}`, function () {
        it('answers 403 role_not_allowed, and records no read', async function () {
          const reader = { bank: () => bank, source: () => source }[role]();
          const before = await size();
          expectProblem(await refusal(clientOf(reader).send('GET', '/v1/audit/checkpoint')), 403, 'role_not_allowed');
          expect(await size()).to.equal(before);
        });
      });
    }
  });

  describe('GET /v1/audit/entries', function () {
    describe('as an auditor', function () {
      it('lists every entry in index order, each canonical JSON whose leaf hash its inclusion proof verifies', async function () {
        const end = await size();
        const found = await page(auditor, `end=${end}&limit=1000`);
        expect(found.tree_size).to.equal(end);
        expect(found.next_start).to.equal(null);
        expect(found.entries.map((item) => item.index)).to.deep.equal(Array.from({ length: end }, (_, index) => index));
        for (const item of found.entries) {
          expect(jcs(JSON.parse(item.entry)), `entry ${item.index}`).to.equal(item.entry);
        }
        for (const item of [found.entries[0]!, found.entries[Math.floor(end / 2)]!, found.entries[end - 1]!]) {
          const proof = await inclusion(auditor, item.index, end);
          const leaf = leafHashOf(Buffer.from(item.entry, 'utf8'));
          expect(fromBase64(proof.leaf_hash).equals(leaf)).to.equal(true);
          verifyInclusion(BigInt(item.index), BigInt(end), leaf, proof.proof.map(fromBase64), fromBase64(proof.root_hash));
        }
      });

      it('pages with limit and next_start, up to the end it was given', async function () {
        const end = await size();
        const all = (await page(auditor, `end=${end}&limit=1000`)).entries;
        const walked: Array<{ index: number; entry: string }> = [];
        let start: number | null = 0;
        let pages = 0;
        while (start !== null) {
          const found: EntriesPage = await page(auditor, `start=${start}&end=${end}&limit=7`);
          expect(found.entries.length).to.be.at.most(7);
          expect(found.next_start).to.equal(found.entries.length === 7 ? found.entries[6]!.index + 1 : null);
          walked.push(...found.entries);
          start = found.next_start;
          pages++;
        }
        expect(walked).to.deep.equal(all);
        expect(pages).to.equal(Math.floor(end / 7) + 1);
      });

      it('answers only the entries from start (inclusive) to end (exclusive), the first 100 by default', async function () {
        const found = await page(auditor, 'start=3&end=9');
        expect(found.entries.map((item) => item.index)).to.deep.equal([3, 4, 5, 6, 7, 8]);
        await growTo(105);
        const first = await page(auditor, '');
        expect(first.entries).to.have.length(100);
        expect(first.next_start).to.equal(100);
        const beyond = await page(auditor, `start=${(await size()) + 5}`);
        expect(beyond.entries).to.deep.equal([]);
        expect(beyond.next_start).to.equal(null);
      });

      it('filters by participant: the entries the participant acted in', async function () {
        const found = await page(auditor, `participant=${source.record.participantId}&limit=1000`);
        expect(found.entries).to.have.length(BATCHES);
        for (const entry of parsed(found)) {
          expect(entry.actor).to.equal(source.record.participantId);
          expect(entry.kind).to.equal('ingest.batch');
          expect(entry['outcome']).to.equal('stored');
          expect(entry['dataset']).to.equal(DATASET);
        }
      });

      it('filters by subject: the entries about one enterprise', async function () {
        const found = parsed(await page(auditor, `subject=${OTHER_USCC}&limit=1000`));
        expect(found).to.have.length(1);
        expect(found[0]!.kind).to.equal('participant.added');
        expect(found[0]!['participant_id']).to.equal(otherEnterprise.record.participantId);
        expect(found[0]!.subject).to.equal(OTHER_USCC);
      });

      it('filters by kind', async function () {
        const added = parsed(await page(auditor, 'kind=participant.added&limit=1000'));
        expect(added.map((entry) => entry['participant_id'])).to.deep.equal(
          [source, auditor, bank, enterprise, otherEnterprise].map((participant) => participant.record.participantId));
        const batches = parsed(await page(auditor, 'kind=ingest.batch&limit=1000'));
        expect(batches).to.have.length(BATCHES);
        expect(parsed(await page(auditor, 'kind=signing_key.rotated'))).to.deep.equal([]);
      });

      it('filters by consent: none is recorded yet', async function () {
        expect((await page(auditor, 'consent=consent-1')).entries).to.deep.equal([]);
      });

      it('combines filters', async function () {
        const found = parsed(await page(auditor, `participant=operator&subject=${USCC}&kind=participant.added`));
        expect(found.map((entry) => entry['participant_id'])).to.deep.equal([enterprise.record.participantId]);
      });

      it('filters by recorded time: from is inclusive, to exclusive, a date means its midnight UTC', async function () {
        const end = await size();
        const all = parsed(await page(auditor, `end=${end}&limit=1000`));
        const pivot = all[Math.floor(end / 2)]!.at;
        const from = parsed(await page(auditor, `end=${end}&limit=1000&from=${pivot}`));
        const to = parsed(await page(auditor, `end=${end}&limit=1000&to=${pivot}`));
        expect(from.every((entry) => entry.at >= pivot)).to.equal(true);
        expect(from.some((entry) => entry.at === pivot)).to.equal(true);
        expect(to.every((entry) => entry.at < pivot)).to.equal(true);
        expect(from.length + to.length).to.equal(end);
        expect(parsed(await page(auditor, `end=${end}&limit=1000&from=2000-01-01`))).to.have.length(end);
        expect(parsed(await page(auditor, `end=${end}&limit=1000&to=2000-01-01`))).to.deep.equal([]);
        expect(parsed(await page(auditor, `end=${end}&limit=1000&from=2000-01-01T00:00:00.000Z&to=2999-01-01`))).to.have.length(end);
      });

      // Stored times always carry milliseconds and are compared as text, so the bounds are normalised first.
      it('treats a time without milliseconds as that instant: an entry recorded within that second is after it', async function () {
        const end = await size();
        const entry = parsed(await page(auditor, `start=${end - 1}&end=${end}`))[0]!;
        const second = `${entry.at.slice(0, 19)}Z`;
        const from = parsed(await page(auditor, `start=${end - 1}&end=${end}&from=${second}`));
        expect(from.map((found) => found.at)).to.deep.equal([entry.at]);
        const to = parsed(await page(auditor, `start=${end - 1}&end=${end}&to=${second}`));
        expect(to).to.deep.equal([]);
      });
    });

    describe('with bad query parameters', function () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ['limit 0', 'limit=0'],
        ['limit 1001', 'limit=1001'],
        ['a non-integer limit', 'limit=ten'],
        ['a negative start', 'start=-1'],
        ['a fractional start', 'start=1.5'],
        ['a hexadecimal end', 'end=0x10'],
        ['a start beyond 2^53', 'start=99999999999999999'],
        ['a repeated start', 'start=1&start=2'],
        ['a repeated kind', 'kind=audit.read&kind=ingest.batch'],
        ['a repeated participant', 'participant=a&participant=b'],
        ['a from that is not a time', 'from=yesterday'],
        ['a from in month 13', 'from=2026-13-01'],
        ['a to with a UTC offset', 'to=2026-01-01T10:00:00%2B08:00'],
      ];
      for (const [what, query] of cases) {
        it(`answers 400 invalid_argument for ${what}, and records no read`, async function () {
          const before = await size();
          expectProblem(await refusal(clientOf(auditor).send('GET', `/v1/audit/entries?${query}`)), 400, 'invalid_argument');
          expect(await size()).to.equal(before);
        });
      }
    });

    describe('as an enterprise', function () {
      it('sees only the entries about its own USCC, its participant.added among them', async function () {
        const found = parsed(await page(enterprise, 'limit=1000'));
        expect(found.length).to.be.greaterThan(0);
        expect(found.every((entry) => entry.subject === USCC)).to.equal(true);
        const added = found.filter((entry) => entry.kind === 'participant.added');
        expect(added.map((entry) => entry['participant_id'])).to.deep.equal([enterprise.record.participantId]);
        expect(found.some((entry) => entry.kind === 'ingest.batch')).to.equal(false);
      });

      it('sees its own earlier reads, and the auditors\' reads filtered by its USCC, all about it', async function () {
        const found = parsed(await page(enterprise, 'kind=audit.read&limit=1000'));
        expect(found.some((entry) => entry.actor === enterprise.record.participantId)).to.equal(true);
        expect(found.some((entry) => entry.actor === auditor.record.participantId)).to.equal(true);
        expect(found.every((entry) => entry.subject === USCC)).to.equal(true);
      });

      it('is kept to its own entries even when it filters by another participant', async function () {
        const found = parsed(await page(enterprise, `participant=${source.record.participantId}`));
        expect(found).to.deep.equal([]);
      });

      it('gets the same answer when it names its own USCC as subject', async function () {
        const end = await size();
        const implicit = await page(enterprise, `end=${end}`);
        const explicit = await page(enterprise, `end=${end}&subject=${USCC}`);
        expect(explicit.entries).to.deep.equal(implicit.entries);
      });

      it('answers 403 role_not_allowed when it asks for another subject, and records no read', async function () {
        const before = await size();
        expectProblem(await refusal(clientOf(enterprise).send('GET', `/v1/audit/entries?subject=${OTHER_USCC}`)), 403, 'role_not_allowed');
        expect(await size()).to.equal(before);
      });

      it('sees nothing of another enterprise, which sees nothing of it', async function () {
        const other = parsed(await page(otherEnterprise, 'limit=1000'));
        expect(other.every((entry) => entry.subject === OTHER_USCC)).to.equal(true);
        expect(other.some((entry) => JSON.stringify(entry).includes(USCC))).to.equal(false);
      });
    });
  });

  describe('GET /v1/audit/proofs/inclusion', function () {
    before(async function () {
      await growTo(PROVEN_SIZE);
    });

    it(`answers, for every index of the ${PROVEN_SIZE}-entry tree, a proof that verifies against root_hash`, async function () {
      const entries = (await page(auditor, `end=${PROVEN_SIZE}&limit=1000`)).entries;
      const root = await gateway.runtime.audit.log.rootAt(PROVEN_SIZE);
      for (const item of entries) {
        const answer = await inclusion(auditor, item.index, PROVEN_SIZE);
        expect(answer.leaf_index).to.equal(item.index);
        expect(answer.tree_size).to.equal(PROVEN_SIZE);
        expect(fromBase64(answer.root_hash).equals(root)).to.equal(true);
        const leaf = leafHashOf(Buffer.from(item.entry, 'utf8'));
        expect(fromBase64(answer.leaf_hash).equals(leaf), `leaf ${item.index}`).to.equal(true);
        verifyInclusion(BigInt(item.index), BigInt(PROVEN_SIZE), leaf, answer.proof.map(fromBase64), fromBase64(answer.root_hash));
      }
    });

    it('answers proofs in trees of several sizes, each leading to the root of that size', async function () {
      for (const treeSize of [1, 2, 3, 7, 8, 9, 16, 17, 31, 33]) {
        const entries = (await page(auditor, `end=${treeSize}&limit=1000`)).entries;
        for (const index of new Set([0, Math.floor(treeSize / 2), treeSize - 1])) {
          const answer = await inclusion(auditor, index, treeSize);
          verifyInclusion(BigInt(index), BigInt(treeSize), leafHashOf(Buffer.from(entries[index]!.entry, 'utf8')),
            answer.proof.map(fromBase64), fromBase64(answer.root_hash));
        }
      }
    });

    it('leads to the root of the checkpoint when tree_size is the checkpoint\'s size', async function () {
      await gateway.runtime.audit.checkpointer.checkpointNow();
      const latest = await checkpoint();
      const treeSize = Number(latest.size);
      const entries = (await page(auditor, `start=${treeSize - 5}&end=${treeSize}`)).entries;
      for (const item of entries) {
        const answer = await inclusion(auditor, item.index, treeSize);
        expect(fromBase64(answer.root_hash).equals(latest.rootHash)).to.equal(true);
        verifyInclusion(BigInt(item.index), BigInt(treeSize), leafHashOf(Buffer.from(item.entry, 'utf8')), answer.proof.map(fromBase64), latest.rootHash);
      }
    });

    it('does not verify for an entry changed by one byte', async function () {
      const [item] = (await page(auditor, 'start=4&end=5')).entries;
      const answer = await inclusion(auditor, 4, PROVEN_SIZE);
      const altered = Buffer.from(item!.entry, 'utf8');
      altered[altered.length - 2] ^= 1;
      let failure: unknown;
      try {
        verifyInclusion(4n, BigInt(PROVEN_SIZE), leafHashOf(altered), answer.proof.map(fromBase64), fromBase64(answer.root_hash));
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(ProofError);
      expect((failure as ProofError).reason).to.equal('root_mismatch');
    });

    describe('with bad query parameters', function () {
      const cases: ReadonlyArray<readonly [string, () => string | Promise<string>]> = [
        ['index equal to tree_size', () => 'index=5&tree_size=5'],
        ['index beyond tree_size', () => 'index=9&tree_size=5'],
        ['tree_size 0', () => 'index=0&tree_size=0'],
        ['tree_size beyond the log\'s size', async () => `index=0&tree_size=${(await size()) + 1}`],
        ['no index', () => 'tree_size=5'],
        ['no tree_size', () => 'index=0'],
        ['a negative index', () => 'index=-1&tree_size=5'],
        ['a fractional tree_size', () => 'index=0&tree_size=5.0'],
        ['a non-integer index', () => 'index=one&tree_size=5'],
        ['a repeated index', () => 'index=0&index=1&tree_size=5'],
      ];
      for (const [what, query] of cases) {
        it(`answers 400 invalid_argument for ${what}`, async function () {
          expectProblem(await refusal(clientOf(auditor).send('GET', `/v1/audit/proofs/inclusion?${await query()}`)), 400, 'invalid_argument');
        });
      }
    });

    describe('as an enterprise', function () {
      it('answers a proof for an entry about it', async function () {
        const treeSize = await size();
        const [own] = (await page(enterprise, `kind=participant.added&end=${treeSize}`)).entries;
        const answer = await inclusion(enterprise, own!.index, treeSize);
        verifyInclusion(BigInt(own!.index), BigInt(treeSize), leafHashOf(Buffer.from(own!.entry, 'utf8')),
          answer.proof.map(fromBase64), fromBase64(answer.root_hash));
      });

      it('answers 404 not_found for an entry not about it, and records no read', async function () {
        const [sourceAdded] = (await page(auditor, `kind=participant.added&participant=operator&limit=1`)).entries;
        const before = await size();
        const error = await refusal(clientOf(enterprise).send('GET', `/v1/audit/proofs/inclusion?index=${sourceAdded!.index}&tree_size=${before}`));
        expectProblem(error, 404, 'not_found');
        expect(await size()).to.equal(before);
      });
    });
  });

  describe('GET /v1/audit/proofs/consistency', function () {
    it('answers proofs that the larger trees extend the smaller ones, verified against the roots it names', async function () {
      const current = await size();
      const pairs: ReadonlyArray<readonly [number, number]> = [[1, 1], [1, 2], [1, current], [2, 3], [3, 7], [4, 8], [7, 8],
        [8, 16], [9, 17], [13, 31], [16, 32], [PROVEN_SIZE, current], [current, current]];
      for (const [first, second] of pairs) {
        const answer = await consistency(auditor, first, second);
        expect([answer.first_size, answer.second_size]).to.deep.equal([first, second]);
        expect(fromBase64(answer.first_root).equals(await gateway.runtime.audit.log.rootAt(first))).to.equal(true);
        expect(fromBase64(answer.second_root).equals(await gateway.runtime.audit.log.rootAt(second))).to.equal(true);
        verifyConsistency(BigInt(first), BigInt(second), answer.proof.map(fromBase64), fromBase64(answer.first_root), fromBase64(answer.second_root));
      }
    });

    it('proves that the current tree extends the checkpoint an auditor kept', async function () {
      await gateway.runtime.audit.checkpointer.checkpointNow();
      const kept = await checkpoint();
      await growTo((await size()) + 3);
      const later = await size();
      const answer = await consistency(auditor, Number(kept.size), later);
      verifyConsistency(kept.size, BigInt(later), answer.proof.map(fromBase64), kept.rootHash, fromBase64(answer.second_root));
    });

    it('answers an enterprise too: proofs name only hashes', async function () {
      const answer = await consistency(enterprise, 5, 9);
      verifyConsistency(5n, 9n, answer.proof.map(fromBase64), fromBase64(answer.first_root), fromBase64(answer.second_root));
    });

    describe('with bad query parameters', function () {
      const cases: ReadonlyArray<readonly [string, () => string | Promise<string>]> = [
        ['first 0', () => 'first=0&second=5'],
        ['first greater than second', () => 'first=6&second=5'],
        ['second beyond the log\'s size', async () => `first=1&second=${(await size()) + 1}`],
        ['no second', () => 'first=1'],
        ['a non-integer first', () => 'first=1e1&second=20'],
        ['a repeated second', () => 'first=1&second=5&second=6'],
      ];
      for (const [what, query] of cases) {
        it(`answers 400 invalid_argument for ${what}`, async function () {
          expectProblem(await refusal(clientOf(auditor).send('GET', `/v1/audit/proofs/consistency?${await query()}`)), 400, 'invalid_argument');
        });
      }
    });
  });

  describe('as a bank or a source', function () {
    const targets = ['/v1/audit/checkpoint', '/v1/audit/entries', '/v1/audit/proofs/inclusion?index=0&tree_size=1',
      '/v1/audit/proofs/consistency?first=1&second=2'];
    for (const role of ['bank', 'source'] as const) {
      for (const target of targets) {
        it(`answers GET ${target.split('?')[0]} with 403 role_not_allowed to a ${role}, and records no read`, async function () {
          const reader = role === 'bank' ? bank : source;
          const before = await size();
          expectProblem(await refusal(clientOf(reader).send('GET', target)), 403, 'role_not_allowed');
          expect(await size()).to.equal(before);
        });
      }
    }
  });

  describe('without a signature', function () {
    it('answers 401 signature_missing', async function () {
      expectProblem(await refusal(clientOf(auditor).send('GET', '/v1/audit/entries', { unsigned: true })), 401, 'signature_missing');
    });
  });

  describe('the reads themselves', function () {
    it('are each one audit.read entry by the reader at the index in Audit-Index, with what was asked', async function () {
      const auditorRead = await read(auditor, '/v1/audit/entries?start=2&end=4&kind=audit.read');
      const auditorEntry = await storedEntry(Number(auditorRead.headers['audit-index']));
      expect(auditorEntry).to.include({ start: 2, end: 4, found: auditorRead.json<EntriesPage>().entries.length });
      expect(auditorEntry['request_sha256']).to.be.a('string').and.not.equal('');
      const enterpriseRead = await read(enterprise, '/v1/audit/proofs/consistency?first=2&second=3');
      expect(await storedEntry(Number(enterpriseRead.headers['audit-index']))).to.include({ first: 2, second: 3, subject: USCC });
    });

    it('are recorded one each when many arrive at once', async function () {
      const before = await size();
      const responses = await Promise.all(Array.from({ length: 20 }, () => clientOf(auditor).send('GET', '/v1/audit/entries?limit=1')));
      expect(await size()).to.equal(before + 20);
      const indexes = responses.map((response) => Number(response.headers['audit-index'])).sort((a, b) => a - b);
      expect(indexes).to.deep.equal(Array.from({ length: 20 }, (_, offset) => before + offset));
      for (const index of indexes) expect(await storedEntry(index)).to.include({ kind: 'audit.read', actor: auditor.record.participantId });
    });
  });

  describe('what the log holds', function () {
    it('holds no record value: no enterprise name or amount from the ingested rows', async function () {
      const end = await size();
      const all = (await page(auditor, `end=${end}&limit=1000`)).entries.map((item) => item.entry).join('\n');
      for (const value of [ENTERPRISE_NAME, AMOUNT, AMOUNT_IN_FEN]) expect(all).to.not.include(value);
      const batch = parsed(await page(auditor, 'kind=ingest.batch&limit=1'))[0]!;
      expect(Object.keys(batch).sort()).to.deep.equal(
        ['actor', 'as_of', 'at', 'batch_id', 'content_sha256', 'dataset', 'format', 'kind', 'outcome', 'received_at', 'request_sha256', 'row_count', 'v']);
    });
  });
});
