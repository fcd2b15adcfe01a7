/**
 * Resident identity card number (居民身份证号码, GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2
 * check character (a digit or X). The birth date inside it must be a real calendar date.
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK = '10X98765432';
const SHAPE = /^[1-9]\d{5}(\d{4})(\d{2})(\d{2})\d{3}[0-9X]$/;

/** The check character for the first 17 digits of a number. */
export function residentIdCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17.charAt(i)) * WEIGHTS[i]!;
  return CHECK.charAt(sum % 11);
}

export function isValidResidentId(id: string): boolean {
  const match = SHAPE.exec(id);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const birth = new Date(Date.UTC(year, month - 1, day));
  const realDate =
    year >= 1900 && birth.getUTCFullYear() === year && birth.getUTCMonth() === month - 1 && birth.getUTCDate() === day;
  return realDate && residentIdCheckCharacter(id.slice(0, 17)) === id.charAt(17);
}
