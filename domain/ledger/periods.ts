/**
 * Calendar months in Asia/Shanghai (UTC+8 all year: China has no daylight saving time), named
 * `YYYY-MM`. Monthly vouchers credit once per such period.
 */
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;

/** The Asia/Shanghai calendar month `at` falls in. */
export function periodOf(at: string): string {
  const shifted = new Date(Date.parse(at) + SHANGHAI_OFFSET_MS);
  return `${shifted.getUTCFullYear()}-${String(shifted.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** When a period starts: the 1st of the month, 00:00 in Shanghai (16:00 UTC the day before). */
export function periodStart(period: string): string {
  const [year, month] = period.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, month - 1, 1) - SHANGHAI_OFFSET_MS).toISOString();
}

/** The period after `period`. */
export function nextPeriod(period: string): string {
  const [year, month] = period.split('-').map(Number) as [number, number];
  return month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, '0')}`;
}
