// Zone names and formatted instants are cached (per UTC hour, per instant): the caches must never change what is shown,
// also across daylight-saving changes and in zones with half-hour offsets and half-hour DST.
import { describe, expect, it } from 'vitest';
import { formatInstant, formatTime, zoneAbbreviation } from '../../server/time.js';

const formats = new Map<string, Intl.DateTimeFormat>();
/** The zone name at an instant looked up directly (no cache of names), the way time.ts describes it. */
function reference(instant: Date, zone: string): string {
  const name = (locale: string) => {
    const key = `${locale}|${zone}`;
    if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' }));
    return formats.get(key)!.formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? zone;
  };
  const gb = name('en-GB');
  if (!/^GMT[+-]/.test(gb)) return gb;
  const us = name('en-US');
  return /^GMT[+-]/.test(us) ? gb : us;
}

const ZONES = ['Europe/London', 'America/New_York', 'America/Los_Angeles', 'America/St_Johns', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham'];
/** Days with a transition in at least one of the zones (2026), and an ordinary day. */
const DAYS = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-09-27', '2026-10-04', '2026-10-25', '2026-11-01', '2026-06-15'];

describe('zone names and formatted instants', () => {
  it('are what an uncached lookup gives, every 7 minutes through days with a clock change', () => {
    for (const zone of ZONES) {
      for (const day of DAYS) {
        const start = Date.parse(`${day}T00:00:00Z`) - 14 * 3_600_000;
        for (let t = start; t < start + 52 * 3_600_000; t += 7 * 60_000) {
          const instant = new Date(t);
          expect(zoneAbbreviation(instant, zone), `${zone} ${instant.toISOString()}`).toBe(reference(instant, zone));
        }
      }
    }
  });

  it('format an instant the same the first time and from the cache, and name the zone after the change', () => {
    const before = new Date('2026-03-29T00:59:00Z');
    const after = new Date('2026-03-29T01:00:00Z');
    expect(formatInstant(before, 'Europe/London')).toBe('Sun, 29 Mar 2026, 00:59 GMT');
    expect(formatInstant(before, 'Europe/London')).toBe('Sun, 29 Mar 2026, 00:59 GMT');
    expect(formatInstant(after, 'Europe/London')).toBe('Sun, 29 Mar 2026, 02:00 BST');
    expect(formatTime(new Date('2026-11-01T05:59:00Z'), 'America/New_York')).toBe('01:59 EDT');
    expect(formatTime(new Date('2026-11-01T06:00:00Z'), 'America/New_York')).toBe('01:00 EST');
  });
});
