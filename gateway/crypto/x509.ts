/**
 * The platform certificate authority: creates the root, issues participant (client) certificates and the gateway's
 * TLS server certificate, turns a participant's PKCS#10 CSR into a public key, and reads back the facts the gateway
 * needs from a certificate (thumbprint, participant id, role, validity).
 *
 * Everything is RSA, deliberately: node-forge, which builds the certificates, only handles RSA keys in certificates
 * and CSRs. Keys are generated with node:crypto (forge's pure-JS key generation takes seconds) and handed to forge
 * as PEM. Reading certificates uses node:crypto's X509Certificate where it can, so any well-formed certificate can
 * be inspected even if forge could not have made it.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import forge from 'node-forge';

export type ParticipantRole = 'source' | 'enterprise' | 'bank' | 'auditor' | 'operator';
const PARTICIPANT_ROLES: readonly ParticipantRole[] = ['source', 'enterprise', 'bank', 'auditor', 'operator'];

export interface CertificateAuthority {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export interface ParticipantCertificateRequest {
  /** Goes into the CN and into a SAN URI `urn:credit-gateway:participant:<id>`. */
  readonly participantId: string;
  /** Goes into the OU. */
  readonly role: ParticipantRole;
  /** Goes into the O, as a UTF8String (names are usually Chinese). */
  readonly name: string;
  /** SPKI PEM of an RSA key of at least 2048 bits. */
  readonly publicKeyPem: string;
  /**
   * An enterprise's Unified Social Credit Code, written as the subject's organizationIdentifier (2.5.4.97) in the
   * ETSI EN 319 412-1 form `NTRCN-<code>` (national trade register, China), so that a consent can be checked
   * against the certificate alone.
   */
  readonly uscc?: string | undefined;
  /** Validity from `now`. */
  readonly days: number;
  readonly now?: Date;
}

export interface CertificateFacts {
  /** base64url (no padding) of SHA-256 over the certificate DER: the JOSE "x5t#S256" value. */
  readonly sha256Thumbprint: string;
  /** The subject CN; undefined when absent or repeated. */
  readonly participantId: string | undefined;
  /** The subject OU; undefined when absent or repeated. */
  readonly role: string | undefined;
  /** The USCC of the subject's organizationIdentifier `NTRCN-<code>`, when there is one. */
  readonly uscc: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
  /** Lower-case hex. */
  readonly serialHex: string;
}

/** A CSR was refused. The message never quotes the CSR, which comes from outside. */
export class CsrError extends Error {
  override readonly name = 'CsrError';
}

const CA_ORGANIZATION = 'Credit Data Gateway Platform CA';
const CA_KEY_BITS = 3072;
const CA_VALIDITY_YEARS = 10;
const MIN_RSA_BITS = 2048;
/** notBefore is set this far in the past so a participant whose clock runs a little behind can use a fresh certificate. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** ub-common-name and ub-organization-name in RFC 5280. */
const MAX_NAME_CHARS = 64;
/** A 4096-bit RSA CSR is under 2 KiB of PEM; anything far larger is not one we want to parse. */
const MAX_CSR_CHARS = 16 * 1024;
const PARTICIPANT_URN_PREFIX = 'urn:credit-gateway:participant:';
/** Participant ids go into a URN unescaped, so they keep to characters a URN allows as they are. */
const PARTICIPANT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$/;
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATIONAL_UNIT = '2.5.4.11';
const OID_ORGANIZATION_IDENTIFIER = '2.5.4.97';
const SAN_DNS_NAME = 2;
const SAN_URI = 6;
const SAN_IP_ADDRESS = 7;
const RSA_KEY_MESSAGE = `only RSA keys of ${MIN_RSA_BITS} bits or more are supported`;

/**
 * Names are written as UTF8String, as RFC 5280 asks of new certificates. @types/node-forge declares `valueTagClass`
 * as a tag class, but forge reads it as the universal tag number of the value.
 */
const UTF8_STRING = forge.asn1.Type.UTF8 as number as forge.asn1.Class;

type NameAttribute = 'CN' | 'O' | 'OU';
/** The extension objects forge's setExtensions reads (it fills in `id` and `value` itself). */
type Extension = Record<string, unknown>;

/** New self-signed root: RSA 3072, SHA-256, 10 years, CN=`commonName`, O="Credit Data Gateway Platform CA". */
export function createCertificateAuthority(options: { commonName: string; now?: Date }): CertificateAuthority {
  const now = options.now ?? new Date();
  const keys = generateRsaKeyPair(CA_KEY_BITS);
  const publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  const name = [nameAttribute('CN', options.commonName), nameAttribute('O', CA_ORGANIZATION)];

  const certificate = forge.pki.createCertificate();
  certificate.serialNumber = randomSerialHex();
  certificate.publicKey = publicKey;
  certificate.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  certificate.validity.notAfter = notAfter;
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    // pathLenConstraint 0: the root signs participant and server certificates only, never another CA.
    { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
  return { certificatePem: certificateToPem(certificate), privateKeyPem: keys.privateKeyPem };
}

/** Issues a participant's client certificate, signed SHA-256 by the CA. Returns PEM. */
export function issueParticipantCertificate(ca: CertificateAuthority, request: ParticipantCertificateRequest): string {
  if (!PARTICIPANT_ID.test(request.participantId)) {
    throw new RangeError('a participant id is 1 to 64 letters, digits, ".", "_", "~" or "-", starting with a letter or digit');
  }
  if (!PARTICIPANT_ROLES.includes(request.role)) throw new RangeError(`a participant role is one of ${PARTICIPANT_ROLES.join(', ')}`);
  return issue(ca, {
    subject: [
      nameAttribute('CN', request.participantId),
      nameAttribute('O', request.name),
      nameAttribute('OU', request.role),
      ...(request.uscc === undefined ? [] : [usccAttribute(request.uscc)]),
    ],
    publicKey: supportedPublicKey(request.publicKeyPem),
    days: request.days,
    now: request.now ?? new Date(),
    extensions: [
      { name: 'keyUsage', critical: true, digitalSignature: true },
      { name: 'extKeyUsage', clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: SAN_URI, value: `${PARTICIPANT_URN_PREFIX}${request.participantId}` }] },
    ],
  });
}

/** The gateway's TLS server certificate: CN = the first host, a dNSName or iPAddress SAN for each host. Returns PEM. */
export function issueServerCertificate(
  ca: CertificateAuthority,
  options: { hosts: readonly string[]; publicKeyPem: string; days: number; now?: Date },
): string {
  const [first] = options.hosts;
  if (first === undefined) throw new RangeError('a server certificate needs at least one host');
  return issue(ca, {
    subject: [nameAttribute('CN', first)],
    publicKey: supportedPublicKey(options.publicKeyPem),
    days: options.days,
    now: options.now ?? new Date(),
    extensions: [
      // keyEncipherment as well, for TLS clients that still negotiate RSA key exchange.
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: options.hosts.map(hostAltName) },
    ],
  });
}

/**
 * The public key of a PKCS#10 CSR, as SPKI PEM, once its self-signature verifies (proof that the participant holds
 * the private key). Only the key is taken: the CA writes the subject itself, whatever the CSR asks for.
 */
export function publicKeyFromCsr(csrPem: string): string {
  // The CSR is attacker-controlled: bounded before parsing, and forge's errors (which may carry parts of the input)
  // are replaced by fixed messages rather than kept as a cause.
  if (csrPem.length > MAX_CSR_CHARS) throw new CsrError('the CSR is too large');
  const request = parseCsrDer(csrDer(csrPem));
  // The key is checked before forge reads the request, because forge fails on any key that is not RSA.
  const publicKey = csrPublicKey(request);
  let verified: boolean;
  try {
    verified = forge.pki.certificationRequestFromAsn1(request).verify();
  } catch {
    verified = false;
  }
  if (!verified) throw new CsrError('the CSR signature does not verify');
  return spkiPem(publicKey);
}

/** A new RSA key pair (2048 bits unless told): the private key as PKCS#8 PEM, the public key as SPKI PEM. */
export function generateRsaKeyPair(bits = MIN_RSA_BITS): { privateKeyPem: string; publicKeyPem: string } {
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS) throw new RangeError(RSA_KEY_MESSAGE);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** What the gateway reads from a certificate. Throws on malformed input. */
export function certificateFacts(certificatePem: string): CertificateFacts {
  const certificate = new X509Certificate(certificatePem);
  const { subject, notBefore, notAfter } = readTbsCertificate(certificate.raw);
  return {
    sha256Thumbprint: createHash('sha256').update(certificate.raw).digest('base64url'),
    participantId: singleValue(subject, OID_COMMON_NAME),
    role: singleValue(subject, OID_ORGANIZATIONAL_UNIT),
    uscc: singleValue(subject, OID_ORGANIZATION_IDENTIFIER)?.match(/^NTRCN-([0-9A-Z]{18})$/)?.[1],
    notBefore,
    notAfter,
    publicKeyPem: spkiPem(certificate.publicKey),
    serialHex: certificate.serialNumber.toLowerCase(),
  };
}

/**
 * True only when `certificatePem` names the CA as its issuer and carries a signature made with the CA's key, so a
 * certificate from another CA with the same names is refused. Validity dates are not checked here. Throws on
 * malformed input.
 */
export function isIssuedBy(caCertificatePem: string, certificatePem: string): boolean {
  const authority = new X509Certificate(caCertificatePem);
  const certificate = new X509Certificate(certificatePem);
  // checkIssued compares names and key identifiers only; verify is what proves the CA's key signed it.
  return certificate.checkIssued(authority) && certificate.verify(authority.publicKey);
}

function issue(
  ca: CertificateAuthority,
  leaf: { subject: forge.pki.CertificateField[]; publicKey: KeyObject; days: number; now: Date; extensions: Extension[] },
): string {
  if (!Number.isFinite(leaf.days) || leaf.days <= 0) throw new RangeError('a certificate is valid for a positive number of days');
  const authority = loadAuthority(ca);
  const certificate = forge.pki.createCertificate();
  certificate.serialNumber = randomSerialHex();
  certificate.publicKey = forge.pki.publicKeyFromPem(spkiPem(leaf.publicKey));
  certificate.validity.notBefore = new Date(leaf.now.getTime() - CLOCK_SKEW_MS);
  certificate.validity.notAfter = new Date(leaf.now.getTime() + leaf.days * DAY_MS);
  certificate.setSubject(leaf.subject);
  certificate.setIssuer(authority.subject);
  certificate.setExtensions([
    { name: 'basicConstraints', critical: true, cA: false },
    ...leaf.extensions,
    { name: 'authorityKeyIdentifier', keyIdentifier: authority.keyIdentifier },
    { name: 'subjectKeyIdentifier' },
  ]);
  certificate.sign(authority.privateKey, forge.md.sha256.create());
  return certificateToPem(certificate);
}

interface LoadedAuthority {
  readonly subject: forge.pki.CertificateField[];
  readonly privateKey: forge.pki.rsa.PrivateKey;
  /** The CA's subjectKeyIdentifier, as forge's binary string. */
  readonly keyIdentifier: string;
}

function loadAuthority(ca: CertificateAuthority): LoadedAuthority {
  const certificate = forge.pki.certificateFromPem(ca.certificatePem);
  const privateKey = forge.pki.privateKeyFromPem(ca.privateKeyPem);
  // With a key from another CA every certificate issued would fail to verify, long after the mistake was made.
  if (spkiPem(createPublicKey(ca.privateKeyPem)) !== spkiPem(createPublicKey(ca.certificatePem))) {
    throw new Error('the CA private key does not belong to the CA certificate');
  }
  return {
    // forge keeps a parsed UTF8String as its UTF-8 bytes but encodes values tagged UTF8 again when writing; decoding
    // here keeps a non-ASCII CA name byte-identical in the issuer field, or the issuer would not match the CA.
    subject: certificate.subject.attributes.map((attribute) => ({
      ...attribute,
      value: attribute.valueTagClass === UTF8_STRING && typeof attribute.value === 'string'
        ? forge.util.decodeUtf8(attribute.value)
        : attribute.value,
    })),
    privateKey,
    keyIdentifier: subjectKeyIdentifier(certificate),
  };
}

/** The CA's own subjectKeyIdentifier, so the authorityKeyIdentifier of what it issues matches it exactly. */
function subjectKeyIdentifier(certificate: forge.pki.Certificate): string {
  const extension = certificate.getExtension('subjectKeyIdentifier');
  if (extension !== undefined && 'subjectKeyIdentifier' in extension && typeof extension.subjectKeyIdentifier === 'string') {
    return forge.util.hexToBytes(extension.subjectKeyIdentifier);
  }
  return certificate.generateSubjectKeyIdentifier().getBytes();
}

function nameAttribute(shortName: NameAttribute, value: string): forge.pki.CertificateField {
  const length = [...value].length;
  if (length === 0 || length > MAX_NAME_CHARS) throw new RangeError(`a ${shortName} is 1 to ${MAX_NAME_CHARS} characters`);
  return { shortName, value, valueTagClass: UTF8_STRING };
}

function usccAttribute(uscc: string): forge.pki.CertificateField {
  if (!/^[0-9A-Z]{18}$/.test(uscc)) throw new RangeError('a USCC is 18 characters of digits and capital letters');
  return { type: OID_ORGANIZATION_IDENTIFIER, value: `NTRCN-${uscc}`, valueTagClass: UTF8_STRING } as forge.pki.CertificateField;
}

function hostAltName(host: string): { type: number; value: string } {
  if (isIPv4(host)) return { type: SAN_IP_ADDRESS, value: ipv4Bytes(host).toString('binary') };
  if (isIPv6(host) && !host.includes('%')) return { type: SAN_IP_ADDRESS, value: ipv6Bytes(host).toString('binary') };
  if (DNS_NAME.test(host)) return { type: SAN_DNS_NAME, value: host };
  throw new RangeError(`not a DNS name or IP address literal: ${host}`);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/**
 * forge's own conversion gets '::ffff:1.2.3.4' and malformed input wrong, so the address (already accepted by
 * isIPv6) is expanded here: a dotted IPv4 tail becomes two groups, then '::' is filled with zero groups.
 */
function ipv6Bytes(address: string): Buffer {
  let text = address;
  if (text.includes('.')) {
    const tailStart = text.lastIndexOf(':') + 1;
    const tail = ipv4Bytes(text.slice(tailStart));
    text = `${text.slice(0, tailStart)}${tail.readUInt16BE(0).toString(16)}:${tail.readUInt16BE(2).toString(16)}`;
  }
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const [head = '', rest] = text.split('::');
  const before = groups(head);
  const after = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2));
  return bytes;
}

/** 16 random bytes: the top bit cleared so the DER INTEGER is positive, the next set so it needs no leading zero. */
function randomSerialHex(): string {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial.toString('hex');
}

function supportedPublicKey(publicKeyPem: string): KeyObject {
  const key = createPublicKey(publicKeyPem);
  if (!isSupportedRsaKey(key)) throw new RangeError(RSA_KEY_MESSAGE);
  return key;
}

function isSupportedRsaKey(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS;
}

function spkiPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** forge writes PEM with CRLF line ends; every other PEM the gateway writes uses LF. */
function certificateToPem(certificate: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(certificate).replace(/\r\n/g, '\n');
}

/** The DER of the one CERTIFICATE REQUEST block in `csrPem`, as forge's binary string. */
function csrDer(csrPem: string): string {
  let messages: forge.pem.ObjectPEM[];
  try {
    messages = forge.pem.decode(csrPem);
  } catch {
    throw new CsrError('the CSR is not PEM');
  }
  const [message] = messages;
  if (message === undefined || messages.length !== 1) throw new CsrError('the CSR is not PEM');
  // forge already reads the older 'NEW CERTIFICATE REQUEST' label as this one.
  if (message.type !== 'CERTIFICATE REQUEST' || message.procType !== null) {
    throw new CsrError('the PEM is not a certificate request');
  }
  return message.body;
}

function parseCsrDer(der: string): forge.asn1.Asn1 {
  try {
    return forge.asn1.fromDer(der);
  } catch {
    throw new CsrError('the CSR is not a PKCS#10 request');
  }
}

/** CertificationRequest ::= SEQUENCE { CertificationRequestInfo SEQUENCE { version, subject, subjectPKInfo, ... }, ... } */
function csrPublicKey(request: forge.asn1.Asn1): KeyObject {
  let spki: forge.asn1.Asn1;
  let algorithm: string;
  try {
    spki = element(children(element(children(request), 0)), 2);
    algorithm = forge.asn1.derToOid(primitive(element(children(element(children(spki), 0)), 0)));
  } catch {
    throw new CsrError('the CSR is not a PKCS#10 request');
  }
  if (algorithm !== OID_RSA_ENCRYPTION) throw new CsrError(RSA_KEY_MESSAGE);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(forge.asn1.toDer(spki).getBytes(), 'binary'), format: 'der', type: 'spki' });
  } catch {
    throw new CsrError('the CSR public key is malformed');
  }
  if (!isSupportedRsaKey(key)) throw new CsrError(RSA_KEY_MESSAGE);
  return key;
}

interface NameValue {
  readonly type: string;
  readonly value: string;
}

/** Subject and validity, read from the DER with forge's ASN.1 parser, which (unlike its certificate reader) takes any key type. */
function readTbsCertificate(der: Buffer): { subject: NameValue[]; notBefore: Date; notAfter: Date } {
  const tbs = children(element(children(forge.asn1.fromDer(der.toString('binary'))), 0));
  // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serial, signature, issuer, validity, subject, ... }
  const offset = tbs[0]?.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const [notBefore, notAfter] = children(element(tbs, offset + 3)).map(asn1Time);
  if (notBefore === undefined || notAfter === undefined) throw new Error('the certificate validity is malformed');
  const subject = children(element(tbs, offset + 4)).flatMap((relativeName) => children(relativeName).map((pair) => {
    const [type, value] = children(pair);
    if (type === undefined || value === undefined) throw new Error('the certificate subject is malformed');
    return { type: forge.asn1.derToOid(primitive(type)), value: directoryString(value) };
  }));
  return { subject, notBefore, notAfter };
}

/**
 * The value of an attribute that occurs exactly once. A subject carrying two CNs or two OUs names no single
 * participant or role, so it yields undefined rather than whichever comes first.
 */
function singleValue(name: readonly NameValue[], type: string): string | undefined {
  const values = name.filter((attribute) => attribute.type === type);
  return values.length === 1 ? values[0]?.value : undefined;
}

/** UTF8String is decoded; the other string types used in names are read byte for byte. */
function directoryString(node: forge.asn1.Asn1): string {
  const bytes = primitive(node);
  return node.type === forge.asn1.Type.UTF8 ? forge.util.decodeUtf8(bytes) : bytes;
}

function asn1Time(node: forge.asn1.Asn1): Date {
  if (node.type === forge.asn1.Type.UTCTIME) return forge.asn1.utcTimeToDate(primitive(node));
  if (node.type === forge.asn1.Type.GENERALIZEDTIME) return forge.asn1.generalizedTimeToDate(primitive(node));
  throw new Error('the certificate validity is malformed');
}

function children(node: forge.asn1.Asn1): forge.asn1.Asn1[] {
  if (!Array.isArray(node.value)) throw new Error('expected a constructed ASN.1 value');
  return node.value;
}

function element(nodes: readonly forge.asn1.Asn1[], index: number): forge.asn1.Asn1 {
  const node = nodes[index];
  if (node === undefined) throw new Error('an ASN.1 element is missing');
  return node;
}

function primitive(node: forge.asn1.Asn1): string {
  if (typeof node.value !== 'string') throw new Error('expected a primitive ASN.1 value');
  return node.value;
}
