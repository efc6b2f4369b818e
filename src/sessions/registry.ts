import type { Logger } from 'pino';
import { LiveSession, type SessionDeps } from './live-session.ts';
import type { Connection } from './transport.ts';
import type { EventBody } from '../protocol/index.ts';

/**
 * The live sessions of this process. Opening a session twice at once yields one LiveSession;
 * a session whose last socket leaves ends after the grace period unless a socket returns.
 */
export class SessionRegistry {
  readonly #deps: SessionDeps;
  readonly #graceMs: number;
  readonly #logger: Logger;
  readonly #live = new Map<string, LiveSession>();
  readonly #opening = new Map<string, Promise<LiveSession | 'forbidden'>>();
  readonly #endTimers = new Map<string, NodeJS.Timeout>();
  readonly #endings = new Set<Promise<void>>();
  #closed = false;

  constructor(deps: SessionDeps, { graceMs }: { graceMs: number }) {
    this.#deps = deps;
    this.#graceMs = graceMs;
    this.#logger = deps.logger;
  }

  get activeSessions(): number {
    return this.#live.size;
  }

  get connectedSockets(): number {
    let count = 0;
    for (const session of this.#live.values()) count += session.connectionCount;
    return count;
  }

  /** Opens (or joins) a session for this connection; `forbidden` if it is another user's. */
  async attach({
    sessionId,
    userId,
    connection,
    afterSeq,
    holdForResume,
  }: {
    sessionId: string;
    userId: string;
    connection: Connection;
    /** Replay every session event after this seq first. */
    afterSeq?: number;
    /** Wait briefly for a `session.resume` first frame. */
    holdForResume?: boolean;
  }): Promise<LiveSession | 'forbidden' | 'closed'> {
    if (this.#closed) return 'closed';
    this.#cancelEndTimer(sessionId);
    let session = this.#live.get(sessionId);
    if (session?.ending) {
      await session.end();
      // The ended session may still be listed for a moment (it is removed once its ending has
      // settled); a socket must never join it, so the session is opened again instead.
      session = this.#live.get(sessionId);
      if (session?.ending) session = undefined;
    }
    if (!session) {
      let opening = this.#opening.get(sessionId);
      if (!opening) {
        opening = LiveSession.open(this.#deps, { sessionId, userId }).finally(() =>
          this.#opening.delete(sessionId),
        );
        this.#opening.set(sessionId, opening);
      }
      const opened = await opening;
      if (opened === 'forbidden') return 'forbidden';
      if (this.#closed) return 'closed';
      const listed = this.#live.get(sessionId);
      session = listed && !listed.ending ? listed : opened;
      this.#live.set(sessionId, session);
    }
    if (session.userId !== userId) return 'forbidden';
    session.attach(connection, { afterSeq, holdForResume });
    return session;
  }

  /** Sends an event to every live socket of a user (e.g. a summary ready for another tab). */
  notifyUser(userId: string, body: EventBody): void {
    for (const session of this.#live.values()) {
      if (session.userId === userId && !session.ending) session.broadcast(body);
    }
  }

  /**
   * Drops a session that was deleted from the database: its response stops, its sockets are
   * closed with 4410, and nothing more of it is written.
   */
  discard(sessionId: string): void {
    this.#cancelEndTimer(sessionId);
    const session = this.#live.get(sessionId);
    if (!session) return;
    this.#live.delete(sessionId);
    session.discard();
  }

  /** Removes a connection; the session ends once no socket is left after the grace period. */
  detach(session: LiveSession, connection: Connection): void {
    if (session.detach(connection) > 0 || this.#closed) return;
    if (this.#graceMs === 0) {
      this.#end(session);
      return;
    }
    this.#cancelEndTimer(session.id);
    this.#endTimers.set(
      session.id,
      setTimeout(() => {
        this.#endTimers.delete(session.id);
        if (session.connectionCount === 0) this.#end(session);
      }, this.#graceMs),
    );
  }

  /**
   * Stops accepting sessions, lets responses in flight finish for up to `timeoutMs`, then ends
   * every session (writing all their events).
   */
  async shutdown({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    this.#closed = true;
    for (const timer of this.#endTimers.values()) clearTimeout(timer);
    this.#endTimers.clear();
    await Promise.allSettled([...this.#opening.values()]);
    const sessions = [...this.#live.values()];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(sessions.map((session) => session.idle())), deadline]);
    clearTimeout(timer);
    await Promise.allSettled(sessions.map((session) => this.#end(session, 'shutdown')));
    await Promise.allSettled([...this.#endings]);
  }

  #end(
    session: LiveSession,
    reason: 'session_ended' | 'shutdown' = 'session_ended',
  ): Promise<void> {
    const ending = session
      .end(reason)
      .catch((error: unknown) => {
        this.#logger.error({ err: error, sessionId: session.id }, 'ending the session failed');
      })
      .finally(() => {
        if (this.#live.get(session.id) === session) this.#live.delete(session.id);
        this.#endings.delete(ending);
      });
    this.#endings.add(ending);
    return ending;
  }

  #cancelEndTimer(sessionId: string): void {
    const timer = this.#endTimers.get(sessionId);
    if (timer) clearTimeout(timer);
    this.#endTimers.delete(sessionId);
  }
}
