// Time-zone helpers for display: zone lists and formatting, with zone names computed once.
import { DateTime, IANAZone } from 'luxon';

const LOCALE = 'en-GB';

/** True for an IANA zone name luxon can use. */
export function isValidZone(zone: string): boolean {
  return zone.length <= 64 && IANAZone.isValidZone(zone);
}

let allZones: string[] | null = null;
/** Every IANA zone the runtime knows, sorted. */
export function listZones(): string[] {
  allZones ??= (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  return allZones;
}

/** Options for a time-zone <select>, with the given one selected. */
export function zoneOptions(selected: string | null): Array<{ value: string; label: string; selected: boolean }> {
  return [
    { value: '', label: "The cohort's own time zone", selected: !selected },
    ...listZones().map((z) => ({ value: z, label: z.replace(/_/g, ' '), selected: z === selected })),
  ];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string, kind: 'datetime' | 'date' | 'time' | 'zone-gb' | 'zone-us'): Intl.DateTimeFormat {
  const key = `${zone}|${kind}`;
  let f = formatters.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions =
      kind === 'date'
        ? { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: zone }
        : kind === 'time'
          ? { hour: '2-digit', minute: '2-digit', timeZone: zone }
          : kind === 'datetime'
            ? { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: zone }
            : { timeZone: zone, timeZoneName: 'short' };
    f = new Intl.DateTimeFormat(kind === 'zone-us' ? 'en-US' : LOCALE, opts);
    formatters.set(key, f);
  }
  return f;
}

const zoneNames = new Map<string, string>();
/**
 * The zone's short name at an instant: "GMT"/"BST" from en-GB, "EST"/"EDT" from en-US where en-GB only
 * knows "GMT-5"; otherwise the offset form. Cached per zone and offset (building names is slow).
 */
export function zoneAbbreviation(instant: Date, zone: string): string {
  // A zone's name changes at most once within an hour (a DST or offset change): when the name at both ends of the
  // instant's UTC hour is the same, it holds for the whole hour, so each zone costs two lookups per hour of instants.
  const hour = Math.floor(instant.getTime() / HOUR_MS);
  if (Number.isFinite(hour)) {
    const start = nameAt(hour, zone);
    if (start === nameAt(hour + 1, zone)) return start;
  }
  return zoneNameAt(instant, zone);
}

const HOUR_MS = 3_600_000;
const hourNames = new Map<string, string>();
/** The zone's short name at the start of a UTC hour (cached, bounded). */
function nameAt(hour: number, zone: string): string {
  const key = `${hour}|${zone}`;
  let name = hourNames.get(key);
  if (name === undefined) {
    name = zoneNameAt(new Date(hour * HOUR_MS), zone);
    if (hourNames.size >= 50_000) hourNames.clear();
    hourNames.set(key, name);
  }
  return name;
}

function zoneNameAt(instant: Date, zone: string): string {
  const gb = formatter(zone, 'zone-gb').formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? zone;
  if (!/^GMT[+-]/.test(gb)) return gb;
  const key = `${zone}|${gb}`;
  let name = zoneNames.get(key);
  if (name === undefined) {
    const us = formatter(zone, 'zone-us').formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? gb;
    name = /^GMT[+-]/.test(us) ? gb : us;
    zoneNames.set(key, name);
  }
  return name;
}

// Pages show the same few instants over and over (every cohort of a start date shares its timeline), and formatting
// one with its zone name costs microseconds: finished strings are kept, up to a bound, per instant and zone.
const FORMATTED_LIMIT = 20_000;
const formatted = new Map<string, string>();

/** "Mon, 2 Mar 2026, 09:00 GMT" in the zone; formatters and results are cached because building them is slow. */
export function formatInstant(instant: Date, zone: string): string {
  const key = `${instant.getTime()}|${zone}`;
  let text = formatted.get(key);
  if (text === undefined) {
    text = `${formatter(zone, 'datetime').format(instant)} ${zoneAbbreviation(instant, zone)}`;
    if (formatted.size >= FORMATTED_LIMIT) formatted.clear();
    formatted.set(key, text);
  }
  return text;
}

/** "Mon, 2 Mar 2026" in the zone. */
export function formatDay(instant: Date, zone: string): string {
  return formatter(zone, 'date').format(instant);
}

/** "09:00 GMT" in the zone. */
export function formatTime(instant: Date, zone: string): string {
  return `${formatter(zone, 'time').format(instant)} ${zoneAbbreviation(instant, zone)}`;
}

/** The local calendar date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISODate() as string;
}
