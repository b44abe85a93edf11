// "A learner's progress may have changed": assignments, sessions and discussions call this after such a
// change (inside their transaction); the certificates module listens and issues the moment rules are met.
import type { Db } from './db.js';

export type ProgressListener = (tx: Db, cohortId: number, userId: number) => void;

export interface ProgressHook {
  listen(fn: ProgressListener): void;
  /** Call inside the transaction that changed the learner's progress. */
  changed(tx: Db, cohortId: number, userId: number): void;
}

export function createProgressHook(): ProgressHook {
  const listeners: ProgressListener[] = [];
  return {
    listen: (fn) => void listeners.push(fn),
    changed(tx, cohortId, userId) {
      for (const fn of listeners) fn(tx, cohortId, userId);
    },
  };
}
