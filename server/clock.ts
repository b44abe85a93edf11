// The one source of time: the app reads "now" only from an injected clock.
export interface Clock {
  /** The current instant. */
  now(): Date;
}

/** The wall clock, for production. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still until told to move: tests walk a cohort through its life with it. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | string = '2026-01-05T09:00:00.000Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  /** Jump to an instant. */
  set(instant: Date | string): void {
    this.current = new Date(instant).getTime();
  }
  /** Move forward by a duration. */
  advance(by: { days?: number; hours?: number; minutes?: number; seconds?: number; ms?: number }): void {
    this.current +=
      (by.days ?? 0) * 86_400_000 + (by.hours ?? 0) * 3_600_000 + (by.minutes ?? 0) * 60_000 + (by.seconds ?? 0) * 1000 + (by.ms ?? 0);
  }
}
