// Pins the platform CA: a 3072-bit self-signed root, participant certificates that OpenSSL accepts and whose id, role
// and Chinese name read back, CSRs from OpenSSL accepted only when RSA ≥ 2048 with a valid signature, issuance
// checked against the CA's key rather than its name, the x5t#S256 thumbprint, and the TLS server certificate's SANs.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  certificateFacts, createCertificateAuthority, CsrError, generateRsaKeyPair, isIssuedBy, issueParticipantCertificate,
  issueServerCertificate, publicKeyFromCsr,
} from '../../gateway/crypto/x509.js';
import type { CertificateAuthority } from '../../gateway/crypto/x509.js';

const OPENSSL = '/usr/bin/openssl';
const CA_NAME = '信用数据网关测试根';
const BANK_NAME = '中国某某银行股份有限公司';
const RSA_MESSAGE = /^only RSA keys of 2048 bits or more are supported$/;

function spkiDer(keyPem: string): Buffer {
  return createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
}

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The current time, whole seconds, as certificates store it. */
function nowInSeconds(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

describe('crypto/x509', () => {
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let participantKeys: { privateKeyPem: string; publicKeyPem: string };
  let dir: string;

  function openssl(args: readonly string[]): string {
    return execFileSync(OPENSSL, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  function write(name: string, contents: string): string {
    fs.writeFileSync(path.join(dir, name), contents);
    return name;
  }

  function read(name: string): string {
    return fs.readFileSync(path.join(dir, name), 'utf8');
  }

  function requireOpenssl(context: Mocha.Context): void {
    if (!fs.existsSync(OPENSSL)) {
      console.warn(`      skipped: ${OPENSSL} is absent`);
      context.skip();
    }
  }

  function bankCertificate(authority: CertificateAuthority, now?: Date): string {
    return issueParticipantCertificate(authority, {
      participantId: 'bank-01', role: 'bank', name: BANK_NAME, publicKeyPem: participantKeys.publicKeyPem, days: 365,
      ...(now === undefined ? {} : { now }),
    });
  }

  before(() => {
    ca = createCertificateAuthority({ commonName: CA_NAME });
    // Same names as `ca`, different key: what a forger would present.
    otherCa = createCertificateAuthority({ commonName: CA_NAME });
    participantKeys = generateRsaKeyPair();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x509-test-'));
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('createCertificateAuthority', () => {
    it('makes a self-signed CA certificate with a 3072-bit RSA key, valid for 10 years', () => {
      const now = nowInSeconds();
      const authority = createCertificateAuthority({ commonName: 'Validity CA', now });
      const certificate = new X509Certificate(authority.certificatePem);
      expect(certificate.ca).to.equal(true);
      expect(certificate.checkIssued(certificate)).to.equal(true);
      expect(certificate.verify(certificate.publicKey)).to.equal(true);
      expect(certificate.publicKey.asymmetricKeyType).to.equal('rsa');
      expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).to.equal(3072);
      expect(certificate.subject).to.equal('CN=Validity CA\nO=Credit Data Gateway Platform CA');
      expect(spkiDer(authority.privateKeyPem)).to.deep.equal(spkiDer(certificate.publicKey.export({ type: 'spki', format: 'pem' }).toString()));
      const facts = certificateFacts(authority.certificatePem);
      expect(facts.notBefore.getTime()).to.equal(now.getTime() - 5 * 60 * 1000);
      expect(facts.notAfter.toISOString()).to.equal(`${now.getUTCFullYear() + 10}${now.toISOString().slice(4)}`);
    });

    it('marks basicConstraints (pathlen 0) and keyUsage (certificate and CRL signing) critical', function () {
      requireOpenssl(this);
      const text = openssl(['x509', '-in', write('ca.pem', ca.certificatePem), '-noout', '-text']);
      expect(text).to.match(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      expect(text).to.match(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
      expect(text).to.match(/Subject Key Identifier:/);
      expect(text).to.match(/Signature Algorithm: sha256WithRSAEncryption/);
    });
  });

  describe('issueParticipantCertificate', () => {
    it('writes an enterprise\'s USCC as organizationIdentifier NTRCN-<code>, and only when given', () => {
      const key = generateRsaKeyPair();
      const pem = issueParticipantCertificate(ca, {
        participantId: 'enterprise-01', role: 'enterprise', name: '某某公司', uscc: '91350100M000100Y43', publicKeyPem: key.publicKeyPem, days: 30,
      });
      expect(certificateFacts(pem).uscc).to.equal('91350100M000100Y43');
      expect(new X509Certificate(pem).subject).to.include('NTRCN-91350100M000100Y43');
      expect(certificateFacts(bankCertificate(ca, nowInSeconds())).uscc).to.equal(undefined);
    });

    it('writes the participant id, role and Chinese name where certificateFacts and X509Certificate read them', () => {
      const now = nowInSeconds();
      const pem = bankCertificate(ca, now);
      const facts = certificateFacts(pem);
      expect(facts.participantId).to.equal('bank-01');
      expect(facts.role).to.equal('bank');
      expect(facts.notBefore.getTime()).to.equal(now.getTime() - 5 * 60 * 1000);
      expect(facts.notAfter.getTime()).to.equal(now.getTime() + 365 * 24 * 60 * 60 * 1000);
      expect(spkiDer(facts.publicKeyPem)).to.deep.equal(spkiDer(participantKeys.publicKeyPem));
      expect(facts.serialHex).to.match(/^[0-9a-f]{32}$/);

      const certificate = new X509Certificate(pem);
      expect(certificate.subject).to.equal(`CN=bank-01\nO=${BANK_NAME}\nOU=bank`);
      expect(certificate.issuer).to.equal(new X509Certificate(ca.certificatePem).subject);
      expect(certificate.subjectAltName).to.equal('URI:urn:credit-gateway:participant:bank-01');
      expect(certificate.ca).to.equal(false);
      expect(certificate.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.2']);
    });

    it('passes openssl verify against the CA, for TLS client use', function () {
      requireOpenssl(this);
      write('ca.pem', ca.certificatePem);
      write('leaf.pem', bankCertificate(ca));
      expect(openssl(['verify', '-CAfile', 'ca.pem', 'leaf.pem'])).to.equal('leaf.pem: OK\n');
      expect(openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslclient', 'leaf.pem'])).to.equal('leaf.pem: OK\n');
    });

    it('refuses an RSA key under 2048 bits and a key that is not RSA', () => {
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
      for (const publicKeyPem of [weak, ec].map((key) => key.export({ type: 'spki', format: 'pem' }).toString())) {
        expect(() => issueParticipantCertificate(ca, { participantId: 'bank-01', role: 'bank', name: BANK_NAME, publicKeyPem, days: 1 }))
          .to.throw(RangeError, RSA_MESSAGE);
      }
      expect(() => generateRsaKeyPair(1024)).to.throw(RangeError, RSA_MESSAGE);
    });

    it('refuses a CA private key that does not belong to the CA certificate', () => {
      const mixed = { certificatePem: ca.certificatePem, privateKeyPem: otherCa.privateKeyPem };
      expect(() => bankCertificate(mixed)).to.throw(/does not belong to the CA certificate/);
    });
  });

  describe('publicKeyFromCsr', () => {
    function opensslCsr(name: string, newkey: readonly string[]): string {
      openssl(['req', '-new', ...newkey, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=anything']);
      return read(`${name}.csr`);
    }

    it('accepts an RSA 2048 CSR from openssl req, and the certificate issued carries the CSR key', function () {
      requireOpenssl(this);
      const publicKeyPem = publicKeyFromCsr(opensslCsr('rsa', ['-newkey', 'rsa:2048']));
      expect(publicKeyPem).to.match(/^-----BEGIN PUBLIC KEY-----\n/);
      const pem = issueParticipantCertificate(ca, { participantId: 'source-7', role: 'source', name: '某某水务集团', publicKeyPem, days: 30 });
      expect(spkiDer(certificateFacts(pem).publicKeyPem)).to.deep.equal(spkiDer(read('rsa.key')));
    });

    it('refuses an EC CSR with the RSA message', function () {
      requireOpenssl(this);
      const csr = opensslCsr('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
      expect(() => publicKeyFromCsr(csr)).to.throw(CsrError, RSA_MESSAGE);
    });

    it('refuses an RSA 1024 CSR with the RSA message', function () {
      requireOpenssl(this);
      expect(() => publicKeyFromCsr(opensslCsr('weak', ['-newkey', 'rsa:1024']))).to.throw(CsrError, RSA_MESSAGE);
    });

    it('refuses a CSR whose signature was tampered with', function () {
      requireOpenssl(this);
      const der = pemBody(opensslCsr('tampered', ['-newkey', 'rsa:2048']));
      // The signature BIT STRING is the last element of the request, so its last byte is signature.
      der[der.length - 1] ^= 0x01;
      expect(() => publicKeyFromCsr(toPem('CERTIFICATE REQUEST', der))).to.throw(CsrError, /^the CSR signature does not verify$/);
    });

    it('refuses what is not a PEM certificate request, without quoting it', () => {
      expect(() => publicKeyFromCsr('my-secret-input')).to.throw(CsrError, /^the CSR is not PEM$/);
      expect(() => publicKeyFromCsr(ca.certificatePem)).to.throw(CsrError, /^the PEM is not a certificate request$/);
      expect(() => publicKeyFromCsr(toPem('CERTIFICATE REQUEST', Buffer.from('my-secret-input'))))
        .to.throw(CsrError, /^the CSR is not a PKCS#10 request$/);
      expect(() => publicKeyFromCsr(toPem('CERTIFICATE REQUEST', Buffer.alloc(20_000)))).to.throw(CsrError, /^the CSR is too large$/);
    });
  });

  describe('isIssuedBy', () => {
    it('is true for a certificate the CA issued', () => {
      expect(isIssuedBy(ca.certificatePem, bankCertificate(ca))).to.equal(true);
    });

    it('is false for a certificate from another CA with the same names, for the same participant', () => {
      expect(new X509Certificate(otherCa.certificatePem).subject).to.equal(new X509Certificate(ca.certificatePem).subject);
      const forged = bankCertificate(otherCa);
      expect(certificateFacts(forged).participantId).to.equal('bank-01');
      expect(isIssuedBy(ca.certificatePem, forged)).to.equal(false);
      expect(isIssuedBy(otherCa.certificatePem, bankCertificate(ca))).to.equal(false);
      expect(isIssuedBy(otherCa.certificatePem, forged)).to.equal(true);
    });
  });

  describe('certificateFacts', () => {
    it('gives the x5t#S256 thumbprint: base64url of SHA-256 over the DER', () => {
      const pem = bankCertificate(ca);
      const expected = createHash('sha256').update(pemBody(pem)).digest('base64url');
      expect(certificateFacts(pem).sha256Thumbprint).to.equal(expected).and.to.match(/^[A-Za-z0-9_-]{43}$/);
    });

    it('throws on a malformed certificate', () => {
      expect(() => certificateFacts('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).to.throw();
    });
  });

  describe('issueServerCertificate', () => {
    const hosts = ['localhost', '127.0.0.1', '::1'];

    it('has the first host as CN and a dNSName or iPAddress SAN for each host', () => {
      const certificate = new X509Certificate(issueServerCertificate(ca, { hosts, publicKeyPem: participantKeys.publicKeyPem, days: 90 }));
      expect(certificate.subject).to.equal('CN=localhost');
      expect(certificate.subjectAltName?.split(', ')).to.deep.equal(['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']);
      expect(certificate.checkHost('localhost')).to.equal('localhost');
      expect(certificate.checkIP('127.0.0.1')).to.equal('127.0.0.1');
      expect(certificate.checkIP('::1')).to.equal('::1');
      expect(certificate.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1']);
    });

    it('passes openssl verify -purpose sslserver for its host name and IP address', function () {
      requireOpenssl(this);
      write('ca.pem', ca.certificatePem);
      write('server.pem', issueServerCertificate(ca, { hosts, publicKeyPem: participantKeys.publicKeyPem, days: 90 }));
      const verify = ['verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver'];
      expect(openssl([...verify, '-verify_hostname', 'localhost', 'server.pem'])).to.equal('server.pem: OK\n');
      expect(openssl([...verify, '-verify_ip', '::1', 'server.pem'])).to.equal('server.pem: OK\n');
    });

    it('refuses a host that is neither a DNS name nor an IP address literal', () => {
      expect(() => issueServerCertificate(ca, { hosts: ['bad host'], publicKeyPem: participantKeys.publicKeyPem, days: 90 }))
        .to.throw(RangeError, /not a DNS name or IP address literal/);
    });
  });
});
