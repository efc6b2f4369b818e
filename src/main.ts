import pino from 'pino';
import { loadConfig } from './config.ts';
import { buildParley } from './app.ts';
import { AppError } from './errors.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof AppError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({
    level: config.logLevel,
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty' } } : {}),
  });
  const parley = await buildParley(config, logger).catch((error: unknown) => {
    if (error instanceof AppError) {
      logger.fatal(error.message);
      process.exit(2);
    }
    throw error;
  });
  await parley.app.listen({ host: config.http.host, port: config.http.port });
  const { chatModel, database } = parley;
  logger.info(
    {
      provider: chatModel.provider,
      model: chatModel.modelId,
      database: database.kind,
      location: database.location,
    },
    chatModel.demo
      ? 'Parley is using the OFFLINE DEMO MODEL (not an LLM). Set OPENAI_API_KEY, ANTHROPIC_API_KEY, GROQ_API_KEY or LLM_PROVIDER=openai-compatible to use a real one.'
      : `Parley is using ${chatModel.provider} / ${chatModel.modelId}`,
  );
  logger.info(`Parley listening on http://${config.http.host}:${config.http.port}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing responses and writing events');
    parley.close().then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
