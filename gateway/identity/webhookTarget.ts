/**
 * Where a bank's webhook may point. A URL names a host; what matters is the addresses it resolves to, so the host is
 * resolved and every address classified (ipaddr.js, which knows the IANA special-purpose registries): only public
 * unicast addresses are accepted, never loopback, private, link-local (cloud metadata at 169.254.169.254),
 * unique-local, carrier-grade NAT, IPv6 forms that embed an IPv4 address, or an address of this host itself — unless
 * the operator names the range in GATEWAY_WEBHOOK_ALLOWED_NETWORKS. A regex on the host name cannot do this:
 * `127.evil.example` is a public name that may resolve anywhere.
 *
 * The check is made again before every delivery, and the delivery connects to the very address that was checked
 * (its lookup is pinned), so a DNS answer that changes between check and connect (rebinding) cannot redirect it.
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import os from 'node:os';
import ipaddr from 'ipaddr.js';
import { GatewayError } from '../errors/index.js';

const MAX_URL_LENGTH = 2048;

/** Networks the operator allows besides public unicast, as [address, prefix length]. */
export type AllowedNetworks = readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];

/** A webhook URL resolved and checked: connect to `address`, speaking to `url`'s host (Host header, TLS name). */
export interface WebhookTarget {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host to its addresses; node's resolver by default, replaced in tests to play DNS. */
export type Resolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Parses GATEWAY_WEBHOOK_ALLOWED_NETWORKS: CIDRs separated by commas (a bare address is that one address). */
export function parseAllowedNetworks(raw: string | undefined): AllowedNetworks {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((item) => {
    const text = item.trim();
    try {
      if (text.includes('/')) return ipaddr.parseCIDR(text);
      const address = ipaddr.parse(text);
      return [address, address.kind() === 'ipv4' ? 32 : 128] as const;
    } catch {
      throw new GatewayError('invalid_configuration', `GATEWAY_WEBHOOK_ALLOWED_NETWORKS: "${text.slice(0, 60)}" is not an address or CIDR network`);
    }
  });
}

/** The URL's form: https, or http for a host the operator allows (a receiver on the same private network). */
function parseWebhookUrl(raw: string): URL {
  if (raw.length > MAX_URL_LENGTH) throw new GatewayError('invalid_argument', `the webhook URL is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GatewayError('invalid_argument', 'the webhook URL is not a URL');
  }
  if (url.username || url.password) throw new GatewayError('invalid_argument', 'the webhook URL must not carry credentials');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new GatewayError('invalid_argument', 'the webhook URL must be https');
  return url;
}

function isAllowed(address: ipaddr.IPv4 | ipaddr.IPv6, allowed: AllowedNetworks): boolean {
  return allowed.some(([network, bits]) => network.kind() === address.kind() && address.match(network, bits));
}

/** This host's own interface addresses: a webhook there would be the gateway calling itself. */
function ownAddresses(): Set<string> {
  const own = new Set<string>();
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) own.add(ipaddr.process(entry.address.split('%')[0] as string).toNormalizedString());
  }
  return own;
}

/** Why an address may not receive webhooks, or undefined when it may. */
function refusalOf(raw: string, allowed: AllowedNetworks): string | undefined {
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is that IPv4 address.
  const address = ipaddr.process(raw.split('%')[0] as string);
  if (isAllowed(address, allowed)) return undefined;
  const range = address.range();
  if (range !== 'unicast') return `${address.toString()} is ${range}`;
  if (ownAddresses().has(address.toNormalizedString())) return `${address.toString()} is an address of this host`;
  return undefined;
}

/**
 * Resolves the URL's host and checks every address it resolves to (one refused address refuses the URL: the
 * resolver could hand out any of them); returns the first, to connect to.
 */
export async function resolveWebhookTarget(raw: string, allowed: AllowedNetworks, resolve: Resolver = systemResolver): Promise<WebhookTarget> {
  const url = parseWebhookUrl(raw);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: readonly { address: string; family: number }[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (cause) {
      throw new GatewayError('invalid_argument', `the webhook host ${host.slice(0, 100)} does not resolve`, { cause });
    }
  }
  if (addresses.length === 0) throw new GatewayError('invalid_argument', `the webhook host ${host.slice(0, 100)} does not resolve`);
  for (const { address } of addresses) {
    const refused = refusalOf(address, allowed);
    if (refused) {
      throw new GatewayError('invalid_argument',
        `the webhook host ${host.slice(0, 100)} resolves to ${refused}; only public addresses receive webhooks (the operator may allow a network with GATEWAY_WEBHOOK_ALLOWED_NETWORKS)`);
    }
  }
  const first = addresses[0] as { address: string; family: number };
  if (url.protocol === 'http:' && addresses.some(({ address }) => !isAllowed(ipaddr.process(address.split('%')[0] as string), allowed))) {
    throw new GatewayError('invalid_argument', 'the webhook URL must be https (http only to a network the operator allows)');
  }
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** How much of a refusing answer's body is kept (for the operator's view of a failed delivery). */
const RESPONSE_DETAIL = 200;

/**
 * One POST to a checked address (redirects are not followed); resolves with the status and the first `responseLimit`
 * characters of the body. Banks' alerts, the operator's misuse flags and the national uplink send this way.
 */
export function postToTarget(target: WebhookTarget, headers: Record<string, string>, body: string, signal: AbortSignal,
  responseLimit = RESPONSE_DETAIL): Promise<{ status: number; text: string }> {
  // Pinned: the socket connects to the address that was checked, whatever DNS says now. Host and TLS name stay the URL's.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const transport = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(target.url, {
      method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: pinned, signal,
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < responseLimit) text += chunk;
      });
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: text.slice(0, responseLimit) }));
    });
    request.on('error', reject);
    request.end(body);
  });
}
