import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { DatabaseHandle } from './db/connect.ts';
import type { EventWriter } from './db/event-writer.ts';
import type { SessionRegistry } from './sessions/registry.ts';
import { websocketRoutes } from './http/websocket-route.ts';
import { metricsRoute } from './http/metrics-route.ts';
import { registerOpenApi } from './http/openapi.ts';
import { registerProblemHandlers } from './http/problem.ts';
import { sessionsRoutes } from './http/sessions-routes.ts';
import { registerWebUi } from './http/web-ui.ts';
import type { ChatModel } from './chat/models.ts';
import type { SummaryQueue } from './jobs/types.ts';

export interface ServerDeps {
  config: Config;
  database: DatabaseHandle;
  registry: SessionRegistry;
  writer: EventWriter;
  chatModel: ChatModel;
  summaries: SummaryQueue;
  logger: Logger;
}

/** Builds the HTTP and WebSocket app. It does not listen; `main.ts` (or a test) does. */
export async function createServer({
  config,
  database,
  registry,
  writer,
  chatModel,
  summaries,
  logger,
}: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // A WebSocket session logs its own lifecycle; per-request lines would only add noise.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // Route schemas are zod: requests are parsed and responses encoded with them.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  await registerOpenApi(app);
  await app.register(websocket, {
    options: { maxPayload: config.limits.maxFrameBytes },
  });

  app.get('/health', async function health() {
    return { status: 'ok' };
  });

  app.get('/ready', async function ready(_request, reply) {
    try {
      await database.ping();
      return {
        status: 'ready',
        database: database.kind,
        provider: chatModel.provider,
        model: chatModel.modelId,
        demo: chatModel.demo,
        active_sessions: registry.activeSessions,
      };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', error: (error as Error).message });
    }
  });

  metricsRoute(app, { registry, writer });

  websocketRoutes(app, {
    registry,
    ratePerSecond: config.limits.ratePerSecond,
    rateBurst: config.limits.rateBurst,
    pingIntervalMs: config.limits.pingIntervalMs,
    maxBufferedBytes: config.resume.maxBufferedBytes,
  });
  sessionsRoutes(app, {
    db: database.db,
    summaries,
    onSessionDeleted: (sessionId) => registry.discard(sessionId),
  });
  await registerWebUi(app);
  return app;
}
