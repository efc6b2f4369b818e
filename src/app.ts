import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { connectDatabase, type DatabaseHandle } from './db/connect.ts';
import { EventWriter } from './db/event-writer.ts';
import { createChatModel, type ChatModel } from './chat/models.ts';
import { SessionRegistry } from './sessions/registry.ts';
import { createServer } from './server.ts';
import { builtinTools } from './tools/index.ts';
import { randomUUID } from 'node:crypto';
import { Jobs } from './jobs/queue.ts';
import { endSessionAndEnqueue, InstanceLease } from './jobs/session-lifecycle.ts';

export const defaultInstructions = [
  'You are the assistant of Parley, a realtime conversation service.',
  'Answer clearly and concisely; use Markdown where it helps.',
  'You can call tools: get_current_time, calculate, get_system_metrics, get_user_profile and',
  'search_past_sessions. Use them when they give a better answer than guessing, and say so',
  'plainly when a tool fails.',
].join(' ');

export interface Parley {
  app: FastifyInstance;
  database: DatabaseHandle;
  writer: EventWriter;
  registry: SessionRegistry;
  chatModel: ChatModel;
  jobs: Jobs;
  lease: InstanceLease;
  instanceId: string;
  /** Graceful stop: finish or cancel responses, end sessions, write everything, close all. */
  close(): Promise<void>;
}

/** Opens the database and builds the server with all its parts; the caller listens. */
export async function buildParley(config: Config, logger: Logger): Promise<Parley> {
  const database = await connectDatabase({
    databaseUrl: config.database.url,
    pgliteDir: config.database.pgliteDir,
    poolSize: config.database.poolSize,
    onDatabaseLost(error) {
      // Nothing could be stored any more; stop, and let a restart recover as after a crash.
      logger.fatal({ err: error }, 'a database thread stopped; exiting');
      process.exit(70);
    },
  });
  try {
    return await assemble(config, logger, database);
  } catch (error) {
    // Whatever failed, the database (and its directory lock) must not stay open behind it.
    await database.close().catch(() => {});
    throw error;
  }
}

async function assemble(config: Config, logger: Logger, database: DatabaseHandle): Promise<Parley> {
  const writer = new EventWriter({
    write: database.write,
    logger,
    flushIntervalMs: config.database.flushIntervalMs,
  });
  const chatModel = createChatModel(config.llm);
  const instanceId = randomUUID();
  const jobs = await Jobs.start({
    database,
    config,
    chatModel,
    logger,
    onSummary: (userId, result) =>
      registry.notifyUser(userId, {
        type: 'session.summary',
        summarized_session_id: result.sessionId,
        summary_status: result.status,
        title: result.status === 'done' ? result.summary.title : null,
        summary: result.status === 'done' ? result.summary.summary : null,
        topics: result.status === 'done' ? result.summary.topics : [],
        tools_used: result.status === 'done' ? result.summary.tools_used : [],
        error: result.status === 'failed' ? result.error : null,
      }),
  });
  const enqueue = jobs.enqueueSummary.bind(jobs);
  const lease = new InstanceLease({
    db: database.db,
    instanceId,
    heartbeatMs: config.instances.heartbeatMs,
    leaseMs: config.instances.leaseMs,
    soleOwner: database.kind === 'pglite',
    enqueue,
    logger,
  });
  try {
    await lease.start();
  } catch (error) {
    await jobs.stop().catch(() => {});
    throw error;
  }
  const stats = {
    activeSessions: () => registry.activeSessions,
    connectedSockets: () => registry.connectedSockets,
  };
  const registry: SessionRegistry = new SessionRegistry(
    {
      db: database.db,
      writer,
      chatModel,
      llm: config.llm,
      tools: builtinTools,
      stats,
      logger,
      instructions: config.llm.instructions ?? defaultInstructions,
      maxQueuedMessages: config.limits.maxQueuedMessages,
      maxMessageBytes: config.limits.maxMessageBytes,
      instanceId,
      resume: config.resume,
      endSession: (sessionId) => endSessionAndEnqueue({ db: database.db, sessionId, enqueue }),
    },
    { graceMs: config.sessionEndGraceMs },
  );
  const app = await createServer({
    config,
    database,
    registry,
    writer,
    chatModel,
    summaries: jobs,
    logger,
  });

  let closing: Promise<void> | undefined;
  return {
    app,
    database,
    writer,
    registry,
    chatModel,
    jobs,
    lease,
    instanceId,
    close() {
      closing ??= (async () => {
        await registry.shutdown({ timeoutMs: config.shutdownTimeoutMs });
        await app.close();
        await lease.stop();
        await writer.close();
        await jobs.stop();
        await database.close();
      })();
      return closing;
    },
  };
}
