// The post writer thread (see post-writer.ts): its own connection to the database file; posts that arrive together
// are written in one transaction, and each is answered only once that transaction has committed.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { configureConnection, type Durability } from '../../server/connection.js';
import { createPostWrites, type PostJob, type PostOutcome } from './post-write.js';

interface Request {
  id: number;
  job: PostJob;
}

const { path, durability } = workerData as { path: string; durability: Durability };
const sqlite = new Database(path, { fileMustExist: true });
configureConnection(sqlite, durability);
// The thread writes; it reads little (the thread's lock, a few of the author's earlier posts), so a small page cache
// keeps its memory small.
sqlite.pragma('cache_size = -512');
const writes = createPostWrites(sqlite);
const port = parentPort!;

let queue: Request[] = [];
let flushing = false;

function flush(): void {
  flushing = false;
  const batch = queue;
  queue = [];
  if (batch.length === 0) return;
  let outcomes: PostOutcome[];
  try {
    outcomes = writes.write(batch.map((r) => r.job));
  } catch (err) {
    // Nothing of the batch was committed (the transaction rolled back): every post in it is refused.
    const message = `the post could not be saved: ${(err as Error).message}`;
    outcomes = batch.map(() => ({ ok: false, status: 500, message }));
  }
  port.postMessage(batch.map((r, i) => ({ id: r.id, outcome: outcomes[i] })));
}

port.on('message', (m: Request | 'stop') => {
  if (m === 'stop') {
    flush();
    sqlite.close();
    port.close();
    return;
  }
  queue.push(m);
  // Everything that arrives before the next turn of this thread's event loop goes into the same transaction.
  if (!flushing) {
    flushing = true;
    setImmediate(flush);
  }
});
port.postMessage('ready');
