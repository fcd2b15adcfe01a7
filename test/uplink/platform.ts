/**
 * Test helper: a stand-in for the national credit-information platform on 127.0.0.1 (port 0), doing what
 * docs/uplink.md asks of it — decrypt each manifest with its private key, verify the gateway's signature with the
 * gateway's JWKS, deduplicate by manifest id, and answer with a receipt it signs over the manifest id, the content
 * hash and when it received it (the same receipt again for a manifest it already has). It can be told to be down,
 * to sign receipts with a key the gateway does not know, or to answer 200 without a receipt.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CompactSign, compactDecrypt, compactVerify, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { SIGNED_TYPES } from '../../gateway/signing/signer.js';
import { RECEIPT_TYPE } from '../../gateway/uplink/index.js';
import type { ManifestClaims } from '../../gateway/uplink/index.js';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export type PlatformMode = 'up' | 'down' | 'bad_receipt_signature' | 'no_receipt';

export interface ReceivedManifest {
  readonly manifestId: string;
  /** The compact JWE as it arrived. */
  readonly ciphertext: string;
  /** The decrypted, verified JWS and its payload as text. */
  readonly signed: string;
  readonly payloadText: string;
  readonly claims: ManifestClaims & { readonly iss: string; readonly aud: string; readonly jti: string };
}

export interface TestPlatform {
  readonly url: string;
  /** GATEWAY_UPLINK_KEY and GATEWAY_UPLINK_RECEIPT_KEY for a gateway that uplinks here. */
  readonly env: Record<string, string>;
  mode: PlatformMode;
  /** Set once the gateway runs: manifests are verified with it. */
  gatewayJwks: JSONWebKeySet | undefined;
  /** First arrival of each manifest id. */
  readonly manifests: Map<string, ReceivedManifest>;
  /** Requests that carried a manifest that decrypted and verified, repeats included. */
  verified: number;
  /** Why requests were refused (decryption, signature, type). */
  readonly refused: string[];
  close(): Promise<void>;
}

export async function startTestPlatform(keyDir: string): Promise<TestPlatform> {
  const encryption = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
  const receipts = await generateKeyPair('ES256', { extractable: true });
  const rogue = await generateKeyPair('ES256', { extractable: true });
  const encryptionFile = path.join(keyDir, 'platform-encryption.jwk.json');
  const receiptFile = path.join(keyDir, 'platform-receipts.jwks.json');
  fs.writeFileSync(encryptionFile, JSON.stringify({ ...(await exportJWK(encryption.publicKey)), kid: 'platform-enc-1', use: 'enc' }));
  fs.writeFileSync(receiptFile, JSON.stringify({ keys: [{ ...(await exportJWK(receipts.publicKey)), kid: 'platform-receipt-1', alg: 'ES256' }] }));
  const receivedAt = new Map<string, string>();

  async function receiptFor(claims: ManifestClaims, signingKey: SigningKey): Promise<string> {
    let at = receivedAt.get(claims.manifest_id);
    if (at === undefined) {
      at = new Date().toISOString();
      receivedAt.set(claims.manifest_id, at);
    }
    const payload = { manifest_id: claims.manifest_id, content_sha256: claims.batch.content_sha256, received_at: at };
    return new CompactSign(Buffer.from(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'ES256', typ: RECEIPT_TYPE, kid: 'platform-receipt-1' }).sign(signingKey);
  }

  async function open(ciphertext: string, idempotencyKey: string | undefined): Promise<ReceivedManifest> {
    const decrypted = await compactDecrypt(ciphertext, encryption.privateKey);
    if (decrypted.protectedHeader.cty !== 'JWT') throw new Error(`cty ${String(decrypted.protectedHeader.cty)}`);
    const signed = Buffer.from(decrypted.plaintext).toString('utf8');
    if (!platform.gatewayJwks) throw new Error('no gateway JWKS yet');
    const verified = await compactVerify(signed, createLocalJWKSet(platform.gatewayJwks), { algorithms: ['ES256'] });
    if (verified.protectedHeader.typ !== SIGNED_TYPES.uplinkManifest) throw new Error(`typ ${String(verified.protectedHeader.typ)}`);
    const payloadText = Buffer.from(verified.payload).toString('utf8');
    const claims = JSON.parse(payloadText) as ReceivedManifest['claims'];
    if (claims.jti !== claims.manifest_id || idempotencyKey !== claims.manifest_id) throw new Error('manifest id, jti and idempotency-key differ');
    return { manifestId: claims.manifest_id, ciphertext, signed, payloadText, claims };
  }

  const platform: TestPlatform = {
    url: '', env: { GATEWAY_UPLINK_KEY: encryptionFile, GATEWAY_UPLINK_RECEIPT_KEY: receiptFile }, mode: 'up', gatewayJwks: undefined,
    manifests: new Map(), verified: 0, refused: [],
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        if (platform.mode === 'down') {
          res.writeHead(503).end('maintenance');
          return;
        }
        let manifest: ReceivedManifest;
        try {
          manifest = await open(Buffer.concat(chunks).toString('utf8'), req.headers['idempotency-key'] as string | undefined);
        } catch (error) {
          platform.refused.push((error as Error).message);
          res.writeHead(400).end('refused');
          return;
        }
        platform.verified += 1;
        if (!platform.manifests.has(manifest.manifestId)) platform.manifests.set(manifest.manifestId, manifest);
        if (platform.mode === 'no_receipt') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        const key = platform.mode === 'bad_receipt_signature' ? rogue.privateKey : receipts.privateKey;
        res.writeHead(200, { 'content-type': 'application/jose' }).end(await receiptFor(manifest.claims, key));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (platform as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/manifests`;
  return platform;
}
