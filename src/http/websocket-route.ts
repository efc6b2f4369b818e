import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { CloseCode, ErrorCode, UserId } from '../protocol/index.ts';
import { parseInbound, RateLimiter } from '../sessions/inbound.ts';
import type { LiveSession } from '../sessions/live-session.ts';
import type { SessionRegistry } from '../sessions/registry.ts';
import type { Connection } from '../sessions/transport.ts';
import { COALESCE_MAX_BYTES, coalescedSend } from './coalesced-send.ts';

export interface WebSocketRouteOptions {
  registry: SessionRegistry;
  ratePerSecond: number;
  rateBurst: number;
  /** Ping every socket this often; a socket that did not answer the previous ping is dropped. */
  pingIntervalMs: number;
  /** A client further behind than this is cut off as a slow consumer (`WS_MAX_BUFFERED_BYTES`). */
  maxBufferedBytes: number;
}

const Query = z.object({
  user_id: UserId.default('anonymous'),
  after_seq: z.coerce.number().int().nonnegative().optional(),
});
/** After this many rejected frames in a row the client is not listening; it is disconnected. */
const MAX_REJECTED_IN_A_ROW = 50;

/** `GET /ws/session/:sessionId?user_id=…` and `GET /ws/session` (a new session). */
export function websocketRoutes(app: FastifyInstance, options: WebSocketRouteOptions): void {
  const heartbeat = startHeartbeat(options.pingIntervalMs);
  app.addHook('onClose', async function stopHeartbeat() {
    heartbeat.stop();
  });
  const handler = (
    socket: WebSocket,
    raw: Duplex | undefined,
    sessionId: string | undefined,
    query: unknown,
    isNew: boolean,
  ) => {
    heartbeat.watch(socket);
    handleSocket(socket, raw, sessionId, query, isNew, options);
  };
  app.get('/ws/session', { websocket: true }, function newSession(socket, request) {
    handler(socket, request.raw.socket, randomUUID(), request.query, true);
  });
  app.get<{ Params: { sessionId: string } }>(
    '/ws/session/:sessionId',
    { websocket: true },
    function existingSession(socket, request) {
      handler(socket, request.raw.socket, request.params.sessionId, request.query, false);
    },
  );
}

/**
 * One timer for all sockets: each is pinged every interval, and one that has not answered the
 * previous ping is terminated, so dead connections do not hold sessions open.
 */
function startHeartbeat(intervalMs: number) {
  const alive = new Map<WebSocket, boolean>();
  const timer = setInterval(() => {
    for (const [socket, answered] of alive) {
      if (!answered) {
        socket.terminate();
        alive.delete(socket);
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    watch(socket: WebSocket) {
      alive.set(socket, true);
      socket.on('pong', () => {
        if (alive.has(socket)) alive.set(socket, true);
      });
      socket.on('close', () => alive.delete(socket));
    },
    stop() {
      clearInterval(timer);
    },
  };
}

function handleSocket(
  socket: WebSocket,
  raw: Duplex | undefined,
  sessionId: string | undefined,
  rawQuery: unknown,
  isNew: boolean,
  { registry, ratePerSecond, rateBurst, maxBufferedBytes }: WebSocketRouteOptions,
): void {
  const parsedId = z.uuid().safeParse(sessionId);
  if (!parsedId.success) {
    socket.close(CloseCode.badRequest, 'session id must be a UUID');
    return;
  }
  const query = Query.safeParse(rawQuery);
  if (!query.success) {
    socket.close(CloseCode.badRequest, 'user_id must be 1-128 characters of A-Z a-z 0-9 _ . @ : -');
    return;
  }
  const plainSend = (frame: string) => socket.send(frame);
  // Bytes held back count in the client's backlog, so at most a quarter of the limit is held.
  // Without a network socket under it (an injected test socket), frames go one by one.
  const sendFrame =
    typeof raw?.cork === 'function'
      ? coalescedSend(raw, plainSend, Math.min(COALESCE_MAX_BYTES, maxBufferedBytes / 4))
      : plainSend;
  const connection: Connection = {
    id: randomUUID(),
    send(frame) {
      if (socket.readyState === socket.OPEN) sendFrame(frame);
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    close(code, reason) {
      socket.close(code, reason);
      // A client that does not read will not read the close frame either.
      setTimeout(() => socket.terminate(), 1_000).unref();
    },
  };
  const limiter = new RateLimiter({ perSecond: ratePerSecond, burst: rateBurst });
  let session: LiveSession | undefined;
  let closed = false;
  let rejectedInARow = 0;
  // Frames that arrive while the session is being opened wait for it, in order.
  const early: { data: Buffer; isBinary: boolean }[] = [];

  const receive = (target: LiveSession, data: Buffer, isBinary: boolean) => {
    if (!limiter.tryTake()) {
      rejectedInARow += 1;
      if (rejectedInARow > MAX_REJECTED_IN_A_ROW) {
        socket.close(CloseCode.rateLimited, 'too many frames');
        return;
      }
      target.sendError(connection, ErrorCode.rateLimited, 'Too many frames; slow down.');
      return;
    }
    const result = parseInbound(data, isBinary);
    if (!result.ok) {
      rejectedInARow += 1;
      target.sendError(connection, result.error.code, result.error.message);
      return;
    }
    rejectedInARow = 0;
    target.handle(connection, result.frame);
  };

  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (session) receive(session, data, isBinary);
    else early.push({ data, isBinary });
  });
  socket.on('close', () => {
    closed = true;
    if (session) registry.detach(session, connection);
  });
  socket.on('error', () => {
    // 'close' follows; ws already answered protocol violations (e.g. 1009 for an oversized frame).
  });

  registry
    .attach({
      sessionId: parsedId.data,
      userId: query.data.user_id,
      connection,
      afterSeq: query.data.after_seq,
      holdForResume: !isNew && query.data.after_seq === undefined,
    })
    .then((result) => {
      if (result === 'forbidden') {
        socket.close(CloseCode.forbidden, 'this session belongs to another user');
        return;
      }
      if (result === 'closed') {
        socket.close(CloseCode.goingAway, 'server is shutting down');
        return;
      }
      session = result;
      if (closed) {
        registry.detach(result, connection);
        return;
      }
      for (const frame of early.splice(0)) receive(result, frame.data, frame.isBinary);
    })
    .catch(() => {
      socket.close(CloseCode.internalError, 'could not open the session');
    });
}
