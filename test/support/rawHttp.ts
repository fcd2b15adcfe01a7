/** Test helper: requests the typed client would never send — a body announced and withheld, a body streamed chunked. */
import http from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface AnnouncedRequest {
  readonly target: string;
  readonly method?: string;
  /** The Content-Length announced. */
  readonly length: number;
  readonly authorization: string;
  readonly contentType?: string;
}

function collect(response: http.IncomingMessage, done: (result: RawResponse) => void, failed: (error: Error) => void): void {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('error', failed);
  response.on('end', () => done({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
}

/** Sends the head of a request announcing `length` bytes of body and none of them; resolves with the answer given meanwhile. */
export function announceBody(baseUrl: string, request: AnnouncedRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({
      hostname: url.hostname, port: url.port, method: request.method ?? 'POST', path: request.target,
      headers: { 'content-type': request.contentType ?? 'application/json', 'content-length': String(request.length), authorization: request.authorization },
    }, (response) => collect(response, (result) => {
      resolve(result);
      outgoing.destroy();
    }, reject));
    outgoing.on('error', reject);
    outgoing.flushHeaders();
  });
}

/**
 * Sends `total` bytes as a chunked body (no Content-Length) and then neither ends the request nor sends more;
 * resolves with the answer the gateway gives meanwhile. Every byte sent has been read by the gateway when it
 * answers, so closing the connection after the answer cannot reset it.
 */
export function sendChunkedWithoutEnd(baseUrl: string, request: Omit<AnnouncedRequest, 'length'> & { total: number }): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({
      hostname: url.hostname, port: url.port, method: request.method ?? 'POST', path: request.target,
      headers: { 'content-type': request.contentType ?? 'application/json', 'transfer-encoding': 'chunked', authorization: request.authorization },
    }, (response) => collect(response, (result) => {
      resolve(result);
      outgoing.destroy();
    }, reject));
    outgoing.on('error', reject);
    outgoing.write(Buffer.alloc(request.total, ' '));
  });
}
