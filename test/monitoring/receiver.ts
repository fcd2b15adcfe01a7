/**
 * Test helper: a bank's webhook receiver on 127.0.0.1 that verifies every delivery the way docs/monitoring.md tells
 * a bank to — the Standard Webhooks signature with the `standardwebhooks` library, then (by the caller) the alert JWS
 * with the gateway's JWKS — and deduplicates by webhook-id. It can be told to fail (down) or to hold requests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  readonly id: string;
  readonly body: string;
}

export interface Receiver {
  readonly url: string;
  /** First delivery of each webhook-id, in arrival order. */
  readonly unique: Delivery[];
  /** Every verified request, duplicates included. */
  received: number;
  /** Requests whose signature did not verify. */
  rejected: number;
  /** Answer 503 while true. */
  down: boolean;
  /** Delay before answering, ms. */
  delayMs: number;
  secret: string | undefined;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const seen = new Set<string>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const receiver: Receiver = {
    url: '', unique: [], received: 0, rejected: 0, down: false, delayMs: 0, secret: undefined,
    waitFor(count, timeoutMs = 20_000) {
      if (receiver.unique.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${receiver.unique.length} of ${count} deliveries arrived`)), timeoutMs);
        waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = () => {
        if (receiver.down) {
          res.writeHead(503).end();
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          new Webhook(receiver.secret as string).verify(body, req.headers as Record<string, string>, { jsonParse: false });
        } catch {
          receiver.rejected++;
          res.writeHead(401).end();
          return;
        }
        receiver.received++;
        const id = String(req.headers['webhook-id']);
        if (!seen.has(id)) {
          seen.add(id);
          receiver.unique.push({ id, body });
        }
        res.writeHead(204).end();
        for (const waiter of [...waiters]) {
          if (receiver.unique.length >= waiter.count) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      };
      if (receiver.delayMs > 0) setTimeout(answer, receiver.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  (receiver as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/alerts`;
  return receiver;
}
