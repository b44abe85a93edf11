// A TCP port for a server a test starts by itself (a child process, nginx, PostgreSQL), which must be named up front.
import { createServer, type AddressInfo } from 'node:net';

/** A port on the loopback interface that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
