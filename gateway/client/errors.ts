/**
 * What the client throws when the gateway refuses or does not answer; apart from the client itself, so that the CLI's
 * error reporting needs none of the client's crypto to tell them apart.
 */

/** An answer the gateway refused with an RFC 9457 problem. */
export class GatewayClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly problem: Readonly<Record<string, unknown>>;

  constructor(status: number, problem: Readonly<Record<string, unknown>>, requestId: string | undefined) {
    super(`${status} ${String(problem['code'] ?? 'error')}: ${String(problem['detail'] ?? problem['title'] ?? '')}`);
    this.name = 'GatewayClientError';
    this.status = status;
    this.code = String(problem['code'] ?? 'unknown');
    this.requestId = requestId;
    this.problem = problem;
  }
}

/** No answer at all: nothing listens at the URL, the name does not resolve, the connection or TLS handshake failed. */
export class GatewayUnreachableError extends Error {
  readonly url: string;
  /** The system or TLS error code, e.g. ECONNREFUSED, ENOTFOUND, DEPTH_ZERO_SELF_SIGNED_CERT. */
  readonly reason: string;

  constructor(url: string, cause: Error & { code?: string }) {
    super(`no answer from ${url}: ${cause.message}`, { cause });
    this.name = 'GatewayUnreachableError';
    this.url = url;
    this.reason = cause.code ?? 'unknown';
  }
}
