/** Test helper: refusals as a client sees them — the GatewayClientError and its RFC 9457 problem. */
import { expect } from 'chai';
import { GatewayClientError } from '../../gateway/client/client.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { PROBLEM_TYPE_PREFIX } from '../../gateway/http/problems.js';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly request_id: string;
  readonly errors?: ReadonlyArray<{ row: number; field?: string; reason: string }>;
}

/** The GatewayClientError a promise rejects with; fails the test if it resolves. */
export async function refusal(promise: Promise<unknown>): Promise<GatewayClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayClientError) return error;
    throw error;
  }
  throw new Error('expected the gateway to refuse the request');
}

/** The GatewayError a promise rejects with, for tests of services called in-process; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

/** Asserts a refusal's status, problem code and type, and that the body's request_id is the X-Request-Id header. */
export function expectProblem(error: GatewayClientError, status: number, code: string): Problem {
  const problem = error.problem as unknown as Problem;
  expect(error.status, error.message).to.equal(status);
  expect(problem.code, error.message).to.equal(code);
  expect(problem.type).to.equal(`${PROBLEM_TYPE_PREFIX}${code}`);
  expect(problem.status).to.equal(status);
  expect(problem.request_id).to.be.a('string').and.equal(error.requestId);
  return problem;
}
