/** The constants of the request-signing protocol (docs/request-signing.md), shared by the gateway and its client. */

export const AUTHORIZATION_SCHEME = 'JWS';
/**
 * The `typ` headers (RFC 8725 §3.11: explicit typing keeps a token from passing for anything else) of a signed
 * request, a consent (docs/consent.md) and an enrolment proof (docs/portal.md), shared with the portal.
 */
export { CONSENT_TYPE, ENROLMENT_TYPE, REQUEST_TYPE } from '../crypto/participantTokens.js';
/** Longest a request signature may be valid (exp − iat), in seconds. */
export const MAX_REQUEST_LIFETIME_SECONDS = 300;
/** A participant id: it names files and appears in certificates and URLs. */
export const PARTICIPANT_ID = /^[a-z][a-z0-9-]{2,63}$/;
