export { ensureSecrets, loadSecrets, readProfileName, CRYPTO_PROFILE_FILE, SECRET_FILES } from './secretFiles.js';
export type { Secrets } from './secretFiles.js';
export { openDataKeyring, reencryptStep } from './dataKeys.js';
export type { DataKeyring, ReencryptionProgress } from './dataKeys.js';
export { ensureSigningKeys, openSigningKeys, rotateSigningKey, SIGNING_KEYS_FILE } from './signingKeys.js';
export type { PublishedKey, Rotation, SigningKeyInfo, SigningKeySet } from './signingKeys.js';
export { ensureNoteKey, loadNoteKey, NOTE_KEY_FILE } from './noteKey.js';
export type { NoteKey } from './noteKey.js';
export {
  checkDatabaseKeyFingerprints, checkKeyFingerprints, fingerprintKeys, KEY_FINGERPRINTS_FILE, keyFingerprintsJson, parseKeyFingerprints, readKeyFingerprints,
  recordSigningKids, writeKeyFingerprints,
} from './fingerprints.js';
export type { KeyFingerprints, KeyMaterial } from './fingerprints.js';
export { checkKeyPermissions, keyPermissionProblems } from './permissions.js';
export type { PermissionProblem } from './permissions.js';
