/**
 * Calendar arithmetic for question windows on ISO dates (YYYY-MM-DD) and months (YYYY-MM): integer maths on the
 * text, in the calendar the records are dated in, with no clock and no time zone. Records compare as text, which
 * orders ISO dates and months correctly, so each bound is computed once per evaluation and never per record.
 */

export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

export function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function parseDate(text: string): CalendarDate | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

export function isMonth(text: string): boolean {
  const match = MONTH.exec(text);
  return match !== null && Number(match[1]) >= 1 && Number(match[2]) >= 1 && Number(match[2]) <= 12;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

export function formatDate(date: CalendarDate): string {
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** The month `monthsBefore` months before the date's month, as YYYY-MM. */
export function monthBefore(date: CalendarDate, monthsBefore: number): string {
  const index = date.year * 12 + date.month - 1 - monthsBefore;
  return `${pad(Math.floor(index / 12), 4)}-${pad((index % 12) + 1, 2)}`;
}

/** The same day `months` months earlier, or that month's last day when it is shorter (2024-03-31 → 2024-02-29). */
export function dateMonthsBefore(date: CalendarDate, months: number): CalendarDate {
  const index = date.year * 12 + date.month - 1 - months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return { year, month, day: Math.min(date.day, daysInMonth(year, month)) };
}

export function dateDaysBefore(date: CalendarDate, days: number): CalendarDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day - days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/**
 * Whole months from `from` to `to`: how many monthly anniversaries of `from` (the same day, or the month's last day
 * when it is shorter) fall on or before `to`. 2024-01-31 → 2024-02-29 is one month. Negative when `from` is later.
 */
export function wholeMonthsBetween(from: CalendarDate, to: CalendarDate): number {
  const months = (to.year - from.year) * 12 + (to.month - from.month);
  const anniversaryDay = Math.min(from.day, daysInMonth(to.year, to.month));
  return to.day < anniversaryDay ? months - 1 : months;
}
