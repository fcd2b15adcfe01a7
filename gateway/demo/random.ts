/**
 * Deterministic building blocks for the synthetic demo population: a seeded PRNG, integer hashing,
 * index permutations (for codes that must be unique), and the calendar and money formatting the
 * generators share. Nothing here reads the clock or Math.random, so the same inputs give the same bytes.
 */

/** Mixes up to four 32-bit integers into one well-spread 32-bit seed (murmur3 rounds + finaliser). */
export function hash32(a: number, b: number, c: number, d: number): number {
  let h = 0x9e3779b9;
  h = round(h, a);
  h = round(h, b);
  h = round(h, c);
  h = round(h, d);
  h ^= 16;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function round(h: number, value: number): number {
  let k = Math.imul(value | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Splits a safe-integer seed into two 32-bit words so seeds above 2^32 still differ. */
export function seedWords(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / 0x100000000) | 0];
}

/**
 * mulberry32: one 32-bit word of state, fast, and good enough for demo data. Reseedable so a
 * generator can reuse one instance for every enterprise instead of allocating one per row.
 */
export class Rng {
  private state: number;

  constructor(seed = 0) {
    this.state = seed | 0;
  }

  reseed(seed: number): this {
    this.state = seed | 0;
    return this;
  }

  uint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Uniform real in [lo, hi). */
  real(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Index into `cumulative` (ascending thresholds ending at 1): a weighted choice without allocation. */
  tier(cumulative: readonly number[]): number {
    const r = this.next();
    for (let i = 0; i < cumulative.length - 1; i++) if (r < cumulative[i]!) return i;
    return cumulative.length - 1;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * A bijection on [0, modulus): x -> (a*x + b) mod modulus with gcd(a, modulus) = 1. Distinct indices
 * give distinct values, which is how codes are made unique while still looking scattered.
 * a * x must stay below 2^53 so the product is exact: moduli up to 10^8 with x below 10^6 (MAX_ENTERPRISES).
 */
export class AffinePermutation {
  private readonly a: number;
  private readonly b: number;

  constructor(
    private readonly modulus: number,
    seed: number,
  ) {
    let a = (hash32(seed, modulus, 0x5eed, 1) % (modulus - 1)) + 1;
    while (gcd(a, modulus) !== 1) a = (a % (modulus - 1)) + 1;
    this.a = a;
    this.b = hash32(seed, modulus, 0x5eed, 2) % modulus;
  }

  map(x: number): number {
    return (this.a * x + this.b) % this.modulus;
  }
}

/** '00'..'99', so dates and amounts are built without padStart on every row. */
export const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));

/** Days since 1970-01-01 for a proleptic Gregorian date (Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** 'YYYY-MM-DD' for a day number (Hinnant's civil_from_days), years 1000..9999. */
export function formatDate(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
}

/** Parses a strict 'YYYY-MM-DD' that is a real calendar date; returns its day number. */
export function parseDate(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(text)}`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const days = daysFromCivil(year, month, day);
  if (month < 1 || month > 12 || day < 1 || formatDate(days) !== text) {
    throw new RangeError(`not a calendar date: ${text}`);
  }
  return days;
}

/** Month index = year * 12 + (month - 1): consecutive months are consecutive integers. */
export function formatMonth(monthIndex: number): string {
  return `${Math.floor(monthIndex / 12)}-${TWO_DIGITS[(monthIndex % 12) + 1]}`;
}

/** Day number of the first day of a month index. */
export function firstDayOfMonth(monthIndex: number): number {
  return daysFromCivil(Math.floor(monthIndex / 12), (monthIndex % 12) + 1, 1);
}

/** Day number of the same calendar day `years` later (29 Feb falls back to 28 Feb). */
export function addYears(days: number, years: number): number {
  const text = formatDate(days);
  const year = Number(text.slice(0, 4)) + years;
  const month = Number(text.slice(5, 7));
  let day = Number(text.slice(8, 10));
  if (month === 2 && day === 29 && daysFromCivil(year, 3, 1) - daysFromCivil(year, 2, 1) === 28) day = 28;
  return daysFromCivil(year, month, day);
}

/** Integer fen (0.01 yuan) as a yuan string with exactly two decimals, e.g. 1284000 -> '12840.00'. */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new RangeError(`amount must be whole non-negative fen: ${fen}`);
  return `${Math.floor(fen / 100)}.${TWO_DIGITS[fen % 100]}`;
}

/** Rounds to `places` decimals and never returns -0 (so JSON output stays byte-stable and tidy). */
export function roundTo(value: number, places: number): number {
  const factor = 10 ** places;
  return Math.round(value * factor) / factor + 0;
}
