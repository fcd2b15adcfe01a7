// Pins where a webhook may point: every address a host resolves to is classified with ipaddr.js, and only public
// unicast ones pass unless the operator allows a network; a host name that merely looks like an address (or like
// loopback) counts for nothing, and one refused address among several refuses the host.
import { expect } from 'chai';
import { GatewayError } from '../../gateway/errors/index.js';
import { parseAllowedNetworks, resolveWebhookTarget } from '../../gateway/identity/webhookTarget.js';
import type { Resolver } from '../../gateway/identity/webhookTarget.js';

/** DNS as the test says: name → addresses. */
function dns(answers: Readonly<Record<string, readonly string[]>>): Resolver {
  return async (hostname) => {
    const found = answers[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

async function refusalOf(url: string, resolve: Resolver, allowed = ''): Promise<string> {
  try {
    await resolveWebhookTarget(url, parseAllowedNetworks(allowed), resolve);
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'invalid_argument') return error.message;
    throw error;
  }
  throw new Error(`${url} was accepted`);
}

describe('resolveWebhookTarget', function () {
  const resolve = dns({
    '127.evil.example': ['127.0.0.1'],
    'metadata.evil.example': ['169.254.169.254'],
    'intranet.evil.example': ['10.1.2.3'],
    'mixed.evil.example': ['93.184.215.14', '192.168.1.1'],
    'mapped.evil.example': ['::ffff:127.0.0.1'],
    'ula.evil.example': ['fd12:3456::1'],
    'cgnat.evil.example': ['100.64.0.1'],
    'nat64.evil.example': ['64:ff9b::a00:1'],
    'hooks.bank.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  });

  const refused: ReadonlyArray<readonly [string, string, RegExp]> = [
    ['a public-looking name that resolves to loopback (127.evil.example)', 'https://127.evil.example/hook', /127\.0\.0\.1 is loopback/],
    ['the link-local metadata address, by name', 'https://metadata.evil.example/latest', /169\.254\.169\.254 is linkLocal/],
    ['the link-local metadata address, literal', 'https://169.254.169.254/latest', /linkLocal/],
    ['a private address', 'https://intranet.evil.example/', /10\.1\.2\.3 is private/],
    ['a host with one private address among public ones', 'https://mixed.evil.example/', /192\.168\.1\.1 is private/],
    ['an IPv4-mapped IPv6 loopback', 'https://mapped.evil.example/', /127\.0\.0\.1 is loopback/],
    ['an IPv6 loopback literal', 'https://[::1]/', /loopback/],
    ['an IPv6 unique-local address', 'https://ula.evil.example/', /uniqueLocal/],
    ['carrier-grade NAT space', 'https://cgnat.evil.example/', /carrierGradeNat/],
    ['a NAT64 address embedding a private IPv4 one', 'https://nat64.evil.example/', /rfc6052/],
    ['the unspecified address', 'https://0.0.0.0/', /unspecified/],
    ['a host that does not resolve', 'https://nowhere.example/', /does not resolve/],
    ['plain http to a public host', 'http://hooks.bank.example/', /must be https/],
  ];
  for (const [why, url, reason] of refused) {
    it(`refuses ${why}`, async function () {
      expect(await refusalOf(url, resolve)).to.match(reason);
    });
  }

  it('accepts https to a host whose addresses are all public, and returns the first to connect to', async function () {
    const target = await resolveWebhookTarget('https://hooks.bank.example/alerts', [], resolve);
    expect(target).to.include({ address: '93.184.215.14', family: 4 });
    expect(target.url.hostname).to.equal('hooks.bank.example');
  });

  it('accepts loopback, and http to it, only inside a network the operator allows', async function () {
    const allowed = parseAllowedNetworks('127.0.0.1/32');
    expect((await resolveWebhookTarget('http://127.evil.example:8443/hook', allowed, resolve)).address).to.equal('127.0.0.1');
    expect(await refusalOf('https://127.0.0.2/hook', resolve, '127.0.0.1/32')).to.match(/loopback/);
    expect((await resolveWebhookTarget('https://intranet.evil.example/', parseAllowedNetworks('10.0.0.0/8'), resolve)).address).to.equal('10.1.2.3');
  });

  it('refuses a configuration that is not a network list', function () {
    expect(() => parseAllowedNetworks('10.0.0.0/8, bogus')).to.throw(GatewayError, /bogus/);
  });
});
