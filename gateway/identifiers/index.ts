export { isValidUscc, usccCheckCharacter } from './uscc.js';
export { isValidResidentId, residentIdCheckCharacter } from './residentId.js';
