import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { PgBoss, fromDrizzle, fromPglite } from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { ChatModel } from '../chat/models.ts';
import type { Database, DatabaseHandle } from '../db/connect.ts';
import { AppError, errorMessage } from '../errors.ts';
import type { SummaryQueue } from './types.ts';
import {
  recordSummaryFailure,
  summarizeSession,
  type SessionSummary,
} from './summarize-session.ts';
import { markSummaryPending } from './session-lifecycle.ts';

export const SUMMARY_QUEUE = 'summarize-session';

interface SummaryJobData {
  sessionId: string;
}

/** Told when a summary is stored or has finally failed, to push it to the user's open sockets. */
export type SummaryListener = (
  userId: string,
  result:
    | { sessionId: string; status: 'done'; summary: SessionSummary }
    | { sessionId: string; status: 'failed'; error: string },
) => void;

export interface JobsOptions {
  database: DatabaseHandle;
  config: Config;
  chatModel: ChatModel;
  logger: Logger;
  onSummary: SummaryListener;
}

/** A Drizzle transaction (or the database itself) that jobs can be sent inside. */
export type Transaction = Pick<Database, 'execute'>;

/**
 * The durable job queue (pg-boss, on the same database as everything else: Postgres, or the
 * embedded PGlite through pg-boss's PGlite adapter) and the summary worker.
 */
export class Jobs implements SummaryQueue {
  readonly boss: PgBoss;
  readonly #database: DatabaseHandle;
  readonly #config: Config;
  readonly #logger: Logger;

  private constructor(boss: PgBoss, options: JobsOptions) {
    this.boss = boss;
    this.#database = options.database;
    this.#config = options.config;
    this.#logger = options.logger;
  }

  static async start(options: JobsOptions): Promise<Jobs> {
    const { database, config, logger } = options;
    const common = {
      schema: 'pgboss',
      // Crons are not used; supervision (expiring jobs of dead workers, retention) is.
      schedule: false,
      supervise: true,
      superviseIntervalSeconds: config.summaries.superviseIntervalSeconds,
      monitorIntervalSeconds: config.summaries.superviseIntervalSeconds,
    };
    const boss =
      database.kind === 'pglite'
        ? new PgBoss({ ...common, db: fromPglite(database.pglite as never), backend: 'pglite' })
        : new PgBoss({ ...common, connectionString: config.database.url!, max: 4 });
    boss.on('error', (error: unknown) => logger.error({ err: error }, 'job queue error'));
    await boss.start();
    await boss.createQueue(SUMMARY_QUEUE, {
      retryLimit: config.summaries.retryLimit,
      retryDelay: config.summaries.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: config.summaries.timeoutSeconds,
    });
    // pg-boss looks a queue up on its own connection the first time it is used. On PGlite (one
    // connection) that lookup would wait behind the transaction that sends the job: warm the
    // cache now, outside any transaction.
    await boss.findJobs(SUMMARY_QUEUE, { id: randomUUID() });
    const jobs = new Jobs(boss, options);
    await jobs.#work(options);
    return jobs;
  }

  /**
   * Queues a summary inside the caller's transaction: the job exists exactly when the
   * transaction commits.
   */
  async enqueueSummary(tx: Transaction, sessionId: string): Promise<string | null> {
    return this.boss.send(SUMMARY_QUEUE, { sessionId } satisfies SummaryJobData, {
      db: fromDrizzle(tx as never, sql),
    });
  }

  async requestSummary(sessionId: string): Promise<{ jobId: string | null }> {
    const jobId = await this.#database.db.transaction(async (tx) => {
      const marked = await markSummaryPending(tx, sessionId);
      if (marked === 'missing')
        throw new AppError('not_found', { status: 404, message: 'No such session.' });
      if (marked === 'active') {
        throw new AppError('session_active', {
          status: 409,
          message: 'The session is still active; it is summarized when it ends.',
        });
      }
      const id = await this.enqueueSummary(tx, sessionId);
      await tx.execute(
        sql`update sessions set summary_job_id = ${id} where session_id = ${sessionId}`,
      );
      return id;
    });
    return { jobId };
  }

  async cancelSummary(sessionId: string): Promise<void> {
    const waiting = await this.boss.findJobs<SummaryJobData>(SUMMARY_QUEUE, {
      data: { sessionId },
      queued: true,
    });
    if (waiting.length > 0) {
      await this.boss.deleteJob(
        SUMMARY_QUEUE,
        waiting.map((job) => job.id),
      );
    }
  }

  /** Stops fetching, lets running summaries finish (bounded), and closes pg-boss's resources. */
  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, timeout: this.#config.shutdownTimeoutMs, close: true });
  }

  async #work({ database, config, chatModel, logger, onSummary }: JobsOptions): Promise<void> {
    await this.boss.work<SummaryJobData>(
      SUMMARY_QUEUE,
      {
        batchSize: 1,
        localConcurrency: 2,
        includeMetadata: true,
        // Plain polling: NOTIFY wakes workers for new jobs only, and retries would then wait for
        // the slow backstop poll.
        pollingIntervalSeconds: config.summaries.pollIntervalSeconds,
      },
      async ([job]) => {
        if (!job) return;
        const { sessionId } = job.data;
        const attempt = job.retryCount + 1;
        // Leave time to record a failure before pg-boss itself gives up on the job.
        const timeout = AbortSignal.timeout(
          Math.max(1, config.summaries.timeoutSeconds - 2) * 1000,
        );
        try {
          const outcome = await summarizeSession({
            db: database.db,
            chatModel,
            sessionId,
            inputTokens: config.summaries.inputTokens,
            attempt,
            signal: AbortSignal.any([timeout, job.signal]),
          });
          if (outcome.status === 'done') {
            logger.info({ sessionId, attempt }, 'session summarized');
            onSummary(outcome.userId, { sessionId, status: 'done', summary: outcome.summary });
          }
        } catch (error) {
          const final = job.retryCount >= (job as typeof job & { retryLimit: number }).retryLimit;
          logger.warn(
            { sessionId, attempt, final, error: errorMessage(error) },
            'summary attempt failed',
          );
          const recorded = await recordSummaryFailure({
            db: database.db,
            sessionId,
            attempt,
            final,
            error,
          }).catch(() => undefined);
          if (final && recorded) {
            onSummary(recorded.userId, { sessionId, status: 'failed', error: errorMessage(error) });
          }
          throw error;
        }
      },
    );
  }
}
