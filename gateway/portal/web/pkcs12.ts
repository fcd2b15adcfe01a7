/**
 * PKCS#12 (.p12/.pfx) in the browser, with node-forge, because WebCrypto reads neither PKCS#12 nor certificates:
 * reading the file a participant brings (its key and certificate), and writing the backup of a key made at enrolment.
 * app.tsx loads this module on demand, as its own chunk: forge is about 300 KB, five times the rest of the portal,
 * and most visits never touch a key file. Nothing here sends anything anywhere.
 */
import forge from 'node-forge';
import { PortalError } from './api.js';

/** What a certificate the platform CA issued says about its participant (gateway/crypto/x509.ts writes it). */
export interface CertificateSubject {
  readonly participantId: string;
  readonly name: string;
  readonly role: string;
  readonly uscc: string | null;
}

/** The organizationIdentifier attribute, where the CA writes `NTRCN-<USCC>` for an enterprise. */
const OID_ORGANIZATION_IDENTIFIER = '2.5.4.97';
/**
 * The backup's key derivation: PBES2 with AES-256 and PBKDF2 for the key, the PKCS#12 KDF for the MAC, this many
 * rounds each. About a second in a browser; OpenSSL and Windows read the file.
 */
const BACKUP_ITERATIONS = 100_000;

const binary = (bytes: Uint8Array) => forge.util.binary.raw.encode(bytes);
const bytesOf = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(forge.util.binary.raw.decode(text));

function subjectOf(certificate: forge.pki.Certificate): CertificateSubject {
  const field = (name: string) => certificate.subject.getField(name) as { value: string } | null;
  const organizationIdentifier = certificate.subject.attributes.find((attribute) => attribute.type === OID_ORGANIZATION_IDENTIFIER);
  const uscc = typeof organizationIdentifier?.value === 'string' ? /^NTRCN-([0-9A-Z]{18})$/.exec(organizationIdentifier.value)?.[1] : undefined;
  const participantId = field('CN')?.value;
  if (!participantId) throw new PortalError('certificate_unreadable', 'the certificate names no participant (no CN)');
  return { participantId, name: field('O')?.value ?? participantId, role: field('OU')?.value ?? '', uscc: uscc ?? null };
}

/** Who a PEM certificate is for. */
export function certificateSubject(certificatePem: string): CertificateSubject {
  try {
    return subjectOf(forge.pki.certificateFromPem(certificatePem));
  } catch (caught) {
    if (caught instanceof PortalError) throw caught;
    throw new PortalError('certificate_unreadable', 'the certificate file is not a PEM X.509 certificate');
  }
}

export interface Pkcs12Contents {
  /** The private key as PKCS#8 DER, to be imported non-extractable at once and then zeroed. */
  readonly pkcs8: Uint8Array<ArrayBuffer>;
  readonly certificatePem: string;
  readonly subject: CertificateSubject;
}

/**
 * A PKCS#12 file's RSA key and the certificate for it. A wrong password is told apart from a file that is not
 * PKCS#12: the MAC (or, without one, the key's decryption) fails.
 */
export function readPkcs12(file: Uint8Array, password: string): Pkcs12Contents {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(binary(file));
    try {
      p12 = forge.pkcs12.pkcs12FromAsn1(asn1, password);
    } catch (caught) {
      // forge says "PKCS#12 MAC could not be verified. Invalid password?", or fails to decrypt the key bag.
      if (caught instanceof Error && /password|MAC|decrypt/i.test(caught.message)) throw new PortalError('pkcs12_password_wrong', 'the password does not open this PKCS#12 file');
      throw caught;
    }
  } catch (caught) {
    if (caught instanceof PortalError) throw caught;
    throw new PortalError('pkcs12_unreadable', 'the file is not a PKCS#12 (.p12/.pfx) file');
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids['pkcs8ShroudedKeyBag']! })[forge.pki.oids['pkcs8ShroudedKeyBag']!] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids['keyBag']! })[forge.pki.oids['keyBag']!] ?? []),
  ];
  const certificates = (p12.getBags({ bagType: forge.pki.oids['certBag']! })[forge.pki.oids['certBag']!] ?? []).flatMap((bag) => (bag.cert ? [bag.cert] : []));
  // forge decodes RSA keys only; a bag it could not decode (an EC key, a wrong password without a MAC) has no key.
  const key = keyBags.find((bag) => bag.key)?.key as forge.pki.rsa.PrivateKey | undefined;
  if (!key) throw new PortalError('key_unreadable', 'the PKCS#12 file holds no RSA private key that this password opens');
  // The certificate for this key, not a CA certificate the file may also carry.
  const certificate = certificates.find((candidate) => {
    const publicKey = candidate.publicKey as forge.pki.rsa.PublicKey;
    return publicKey.n?.equals(key.n) === true && publicKey.e?.equals(key.e) === true;
  });
  if (!certificate) throw new PortalError('certificate_unreadable', 'the PKCS#12 file holds no certificate for its key');
  const pkcs8 = bytesOf(forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))).getBytes());
  return { pkcs8, certificatePem: forge.pki.certificateToPem(certificate), subject: subjectOf(certificate) };
}

/**
 * The backup of a key made at enrolment: the PKCS#8 key and its certificate in a PKCS#12 file under the password,
 * named after the participant (friendlyName) so that the file says whose key it is.
 */
export function writePkcs12(pkcs8: Uint8Array, certificatePem: string, password: string, participantId: string): Uint8Array<ArrayBuffer> {
  const key = forge.pki.privateKeyFromAsn1(forge.asn1.fromDer(binary(pkcs8)));
  const p12 = forge.pkcs12.toPkcs12Asn1(key, [forge.pki.certificateFromPem(certificatePem)], password, {
    algorithm: 'aes256', count: BACKUP_ITERATIONS, friendlyName: participantId, generateLocalKeyId: true,
  });
  return bytesOf(forge.asn1.toDer(p12).getBytes());
}
