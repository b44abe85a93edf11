// iCalendar (RFC 5545) output through the `ics` library: UTC instants, stable UIDs, SEQUENCE bumped on moves.
import { createEvents, type EventAttributes } from 'ics';

export interface CalendarEntry {
  id: number;
  title: string;
  courseTitle: string;
  startsAt: Date;
  endsAt: Date;
  sequence: number;
  updatedAt: Date;
  /** The page where the join link appears at the right time. */
  pageUrl: string;
}

/** A stable UID per session: the same in every file and feed, so a moved session updates rather than duplicates. */
export function sessionUid(id: number, baseUrl: string): string {
  const host = new URL(baseUrl).hostname || 'cohort-course';
  return `session-${id}@${host}`;
}

/** One VCALENDAR holding a VEVENT per entry. */
export function buildCalendar(entries: CalendarEntry[], opts: { name: string; baseUrl: string }): string {
  const events = entries.map((e) => {
    const event: EventAttributes & { timestamp: number } = {
      uid: sessionUid(e.id, opts.baseUrl),
      title: `${e.courseTitle}: ${e.title}`,
      // `ics` has no time-zone support: we hand it UTC instants and ask for UTC output.
      start: e.startsAt.getTime(),
      startInputType: 'utc',
      startOutputType: 'utc',
      end: e.endsAt.getTime(),
      endInputType: 'utc',
      endOutputType: 'utc',
      sequence: e.sequence,
      timestamp: e.updatedAt.getTime(),
      lastModified: e.updatedAt.getTime(),
      status: 'CONFIRMED',
      busyStatus: 'BUSY',
      url: e.pageUrl,
      description: `Live session of ${e.courseTitle}. The join link appears on the course page 15 minutes before the start: ${e.pageUrl}`,
    };
    return event;
  });
  const { error, value } = createEvents(events, { productId: '-//cohort-course//live sessions//EN', calName: opts.name });
  if (error || !value) throw error ?? new Error('calendar generation failed');
  return value;
}
