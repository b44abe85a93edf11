// "A learner's progress may have changed": assignments, sessions and discussions call this after such a
// change (inside their transaction); the certificates module listens and issues the moment rules are met.
import type { Db } from './db.js';

/**
 * What changed, when a listener can use it. A post is one more post by the learner and changes nothing else;
 * `postsBefore` counts their posts (not removed, not hidden) written before it, concurrent ones included; it may
 * stop counting early (discussions' POSTS_BEFORE_CAP), never overcount.
 */
export type ProgressChange = { kind: 'post'; postsBefore: number };

export type ProgressListener = (tx: Db, cohortId: number, userId: number, change?: ProgressChange) => void;

export interface ProgressHook {
  listen(fn: ProgressListener): void;
  /**
   * Call inside the transaction that changed the learner's progress, or right after it committed (posts, which the post
   * writer thread writes on its own connection): a listener that writes then opens its own transaction.
   */
  changed(tx: Db, cohortId: number, userId: number, change?: ProgressChange): void;
}

export function createProgressHook(): ProgressHook {
  const listeners: ProgressListener[] = [];
  return {
    listen: (fn) => void listeners.push(fn),
    changed(tx, cohortId, userId, change) {
      for (const fn of listeners) fn(tx, cohortId, userId, change);
    },
  };
}
