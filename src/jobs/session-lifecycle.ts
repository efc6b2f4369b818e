import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/connect.ts';
import type { Transaction } from './queue.ts';

/** Runs a statement and returns its rows, on either driver. */
async function rows<T>(tx: Transaction, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = (await tx.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/**
 * Marks a session's summary as pending again (for an on-demand re-summary). Returns whether the
 * session exists and has ended.
 */
export async function markSummaryPending(
  tx: Transaction,
  sessionId: string,
): Promise<'ok' | 'missing' | 'active'> {
  const [row] = await rows<{ status: string }>(
    tx,
    sql`update sessions set summary_status = case when status = 'ended' then 'pending' else summary_status end,
          updated_at = now()
        where session_id = ${sessionId} returning status`,
  );
  if (!row) return 'missing';
  return row.status === 'ended' ? 'ok' : 'active';
}

export interface EndSessionOptions {
  db: Database;
  sessionId: string;
  /** Queues the summary job inside the same transaction. */
  enqueue(tx: Transaction, sessionId: string): Promise<string | null>;
  /**
   * Only end it if this instance still holds it (the sweep passes the dead owner's id), and
   * when it ended, if not now (the sweep passes the owner's last heartbeat).
   */
  owner?: { instanceId: string | null; endedAt: Date | null; recordEvent: boolean };
}

/**
 * Ends an active session and queues its summary in one transaction: no ended session exists
 * without its job, and a session is ended once even if two processes try.
 */
export async function endSessionAndEnqueue({
  db,
  sessionId,
  enqueue,
  owner,
}: EndSessionOptions): Promise<boolean> {
  return db.transaction(async (tx) => {
    const endedAt = owner?.endedAt
      ? sql`greatest(activated_at, ${owner.endedAt.toISOString()}::timestamptz)`
      : sql`now()`;
    const ownerCheck = owner
      ? sql`and instance_id is not distinct from ${owner.instanceId}::uuid`
      : sql``;
    const [ended] = await rows<{ seq_reserved: number }>(
      tx,
      sql`update sessions set
            status = 'ended',
            ended_at = ${endedAt},
            duration_seconds = duration_seconds + greatest(0, extract(epoch from ${endedAt} - activated_at)),
                        summary_status = 'pending',
            summary_error = null,
            summary_attempts = 0,
            instance_id = null,
            updated_at = now()
          where session_id = ${sessionId} and status = 'active' ${ownerCheck}
          returning seq_reserved`,
    );
    if (!ended) return false;
    if (owner?.recordEvent) {
      // The live process that would have written these is gone. Responses it was streaming are
      // kept as interrupted with their saved text; the seqs are reserved above all it used.
      const [interrupted] = await rows<{ count: number }>(
        tx,
        sql`with drafts as (
              delete from response_drafts where session_id = ${sessionId}
              returning response_id, text, updated_at),
            numbered as (
              select response_id, text, row_number() over (order by updated_at) as n from drafts),
            inserted as (
              insert into session_events (session_id, seq, event_type, content, metadata)
              select ${sessionId}, ${ended.seq_reserved} + n::int, 'response_interrupted', text,
                     jsonb_build_object('response_id', response_id, 'status', 'interrupted')
              from numbered returning 1)
            select count(*)::int as count from inserted`,
      );
      const used = interrupted?.count ?? 0;
      await tx.execute(
        sql`insert into session_events (session_id, seq, event_type, metadata)
            values (${sessionId}, ${ended.seq_reserved + used + 1}, 'session_ended', ${JSON.stringify({ reason: 'instance_lost' })}::jsonb)`,
      );
      await tx.execute(
        sql`update sessions set seq_reserved = seq_reserved + ${used + 1} where session_id = ${sessionId}`,
      );
    }
    const jobId = await enqueue(tx, sessionId);
    await tx.execute(
      sql`update sessions set summary_job_id = ${jobId} where session_id = ${sessionId}`,
    );
    return true;
  });
}

export interface InstanceLeaseOptions {
  db: Database;
  instanceId: string;
  heartbeatMs: number;
  leaseMs: number;
  /**
   * True when no other process can share this database (embedded PGlite, which Parley locks):
   * then every session held by another instance id is orphaned, whatever its heartbeat says.
   */
  soleOwner: boolean;
  enqueue(tx: Transaction, sessionId: string): Promise<string | null>;
  logger: Logger;
}

/**
 * This process's heartbeat (one cheap row update per interval, not per session) and the sweep
 * that ends and summarizes sessions whose owner stopped beating: at startup and then
 * periodically, so sessions of a process killed with -9 still get their summary, once.
 */
export class InstanceLease {
  readonly #options: InstanceLeaseOptions;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(options: InstanceLeaseOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { db, instanceId } = this.#options;
    await db.execute(
      sql`insert into instances (instance_id, hostname, pid) values (${instanceId}, ${hostname()}, ${process.pid})`,
    );
    await this.sweep();
    this.#timer = setInterval(() => {
      this.#beating ??= this.#beat().finally(() => {
        this.#beating = undefined;
      });
    }, this.#options.heartbeatMs);
  }

  /** Ends the sessions of dead instances; returns how many it ended. */
  async sweep(): Promise<number> {
    const { db, instanceId, leaseMs, soleOwner, enqueue, logger } = this.#options;
    const orphans = await rows<{
      session_id: string;
      instance_id: string | null;
      heartbeat_at: Date | string | null;
    }>(
      db,
      sql`select s.session_id, s.instance_id, coalesce(i.heartbeat_at, s.updated_at) as heartbeat_at
          from sessions s left join instances i on i.instance_id = s.instance_id
          where s.status = 'active'
            and s.instance_id is distinct from ${instanceId}::uuid
            and (${soleOwner} or i.instance_id is null
                 or i.heartbeat_at < now() - make_interval(secs => ${leaseMs / 1000}))`,
    );
    let ended = 0;
    for (const orphan of orphans) {
      try {
        const done = await endSessionAndEnqueue({
          db,
          sessionId: orphan.session_id,
          enqueue,
          owner: {
            instanceId: orphan.instance_id,
            endedAt: orphan.heartbeat_at ? new Date(orphan.heartbeat_at) : null,
            recordEvent: true,
          },
        });
        if (done) ended += 1;
      } catch (error) {
        logger.error(
          { err: error, sessionId: orphan.session_id },
          'could not end an orphaned session',
        );
      }
    }
    await db.execute(
      sql`delete from instances i where i.instance_id <> ${instanceId}::uuid
            and (${soleOwner} or i.heartbeat_at < now() - make_interval(secs => ${leaseMs / 1000}))
            and not exists (select 1 from sessions s where s.instance_id = i.instance_id and s.status = 'active')`,
    );
    if (ended > 0)
      logger.info({ ended }, 'ended sessions left open by a stopped server; summaries queued');
    return ended;
  }

  /** Stops beating and removes this instance's row (its sessions were ended before). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#beating;
    await this.#options.db
      .execute(sql`delete from instances where instance_id = ${this.#options.instanceId}::uuid`)
      .catch(() => {});
  }

  async #beat(): Promise<void> {
    const { db, instanceId, logger } = this.#options;
    try {
      await db.execute(
        sql`update instances set heartbeat_at = now() where instance_id = ${instanceId}::uuid`,
      );
      // Other instances' sweeps find this one alive; this one looks after the dead in turn.
      await this.sweep();
    } catch (error) {
      logger.warn({ err: error }, 'heartbeat failed');
    }
  }
}
