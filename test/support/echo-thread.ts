/** A worker for `src/db/thread-client.test.ts`: answers, fails, or exits as asked. */
import { parentPort } from 'node:worker_threads';
import { serveRequests } from '../../src/db/thread-client.ts';

type Request = { id: number } & (
  | { op: 'echo'; value: unknown }
  | { op: 'fail'; code: string }
  | { op: 'hang' }
  | { op: 'exit'; code: number }
);

serveRequests(parentPort!, async (request: Request) => {
  switch (request.op) {
    case 'echo':
      return request.value;
    case 'fail':
      throw Object.assign(new Error('asked to fail'), { code: request.code });
    case 'hang':
      return new Promise(() => {});
    case 'exit':
      process.exit(request.code);
  }
});
