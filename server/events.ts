// Domain events: the one way a module reacts to what happens in another ("a cohort moved", "a learner's progress
// changed"), inside the transaction of the change. Panels stay the way modules add sections to shared pages.
import type { Db } from './db.js';

/**
 * Every event and its payload. Modules declare the events they emit by declaration merging, next to their service
 * (`declare module '../../server/events.js' { interface DomainEvents { 'cohort.changed': … } }`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface DomainEvents {}

export type EventName = keyof DomainEvents;

/** A reaction runs inside the emitting transaction, through its `tx`; throwing rolls the whole change back. */
export type Reaction<E extends EventName> = (tx: Db, payload: DomainEvents[E]) => Promise<void>;

export interface Events {
  /** React to `event`; reactions run in the order they were added (module registration order). */
  on<E extends EventName>(event: E, reaction: Reaction<E>): void;
  /** Run every reaction to `event`, one after another, inside the caller's transaction. */
  emit<E extends EventName>(tx: Db, event: E, payload: DomainEvents[E]): Promise<void>;
}

export function createEvents(): Events {
  const reactions = new Map<EventName, Array<Reaction<never>>>();
  return {
    on(event, reaction) {
      const list = reactions.get(event) ?? [];
      list.push(reaction as Reaction<never>);
      reactions.set(event, list);
    },
    async emit(tx, event, payload) {
      for (const reaction of reactions.get(event) ?? []) await (reaction as Reaction<typeof event>)(tx, payload);
    },
  };
}
