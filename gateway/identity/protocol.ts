/** The constants of the request-signing protocol (docs/request-signing.md), shared by the gateway and its client. */

export const AUTHORIZATION_SCHEME = 'JWS';
/** The `typ` header of a signed request (RFC 8725 §3.11: explicit typing keeps it from passing for anything else). */
export const REQUEST_TYPE = 'gateway-request+jwt';
/** Longest a request signature may be valid (exp − iat), in seconds. */
export const MAX_REQUEST_LIFETIME_SECONDS = 300;
/** The `typ` header of an enterprise's consent (docs/consent.md). */
export const CONSENT_TYPE = 'gateway-consent+jwt';
/** A participant id: it names files and appears in certificates and URLs. */
export const PARTICIPANT_ID = /^[a-z][a-z0-9-]{2,63}$/;
