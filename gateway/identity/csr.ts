/** The public key of a participant's CSR, its refusal a GatewayError (invalid_csr), for the CLI and the portal alike. */
import { CsrError, publicKeyFromCsr } from '../crypto/x509.js';
import { GatewayError } from '../errors/index.js';

export function publicKeyOfCsr(csrPem: string): string {
  try {
    return publicKeyFromCsr(csrPem);
  } catch (error) {
    if (error instanceof CsrError) throw new GatewayError('invalid_csr', error.message);
    throw error;
  }
}
