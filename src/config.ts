import { z } from 'zod';
import { AppError } from './errors.ts';

export const providerNames = ['openai', 'anthropic', 'groq', 'openai-compatible', 'demo'] as const;
export type ProviderName = (typeof providerNames)[number];

/** Models used when `LLM_MODEL` is not set. */
export const defaultModels: Record<ProviderName, string> = {
  openai: 'gpt-4.1-mini',
  anthropic: 'claude-sonnet-4-5',
  groq: 'llama-3.3-70b-versatile',
  'openai-compatible': 'llama3.2',
  demo: 'parley-demo-1',
};

const emptyToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const int = (fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

const EnvSchema = z.object({
  LLM_PROVIDER: z.preprocess(emptyToUndefined, z.enum(providerNames).optional()),
  LLM_MODEL: optionalString,
  LLM_BASE_URL: z.preprocess(emptyToUndefined, z.url().optional()),
  LLM_API_KEY: optionalString,
  OPENAI_API_KEY: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  GROQ_API_KEY: optionalString,
  /** Retries of a failed upstream request (429, 5xx, network) before any token was relayed. */
  LLM_MAX_RETRIES: int(2, { max: 10 }),
  /** A stream that sends nothing for this long is treated as stalled. */
  LLM_STALL_TIMEOUT_MS: int(30_000, { min: 100 }),
  LLM_MAX_STEPS: int(8, { min: 1, max: 50 }),
  /** Budget, in estimated tokens, of the history sent with each request. */
  LLM_HISTORY_TOKENS: int(8_000, { min: 100 }),
  LLM_INSTRUCTIONS: optionalString,
  DEMO_TOKEN_DELAY_MS: int(35, { max: 5_000 }),
  TOOL_TIMEOUT_MS: int(10_000, { min: 1 }),

  DATABASE_URL: optionalString,
  PGLITE_DIR: z.preprocess(emptyToUndefined, z.string().default('./data/pglite')),
  DATABASE_POOL_SIZE: int(10, { min: 1, max: 200 }),
  EVENT_FLUSH_INTERVAL_MS: int(10, { min: 1, max: 10_000 }),

  PORT: int(8000, { max: 65_535 }),
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),

  MAX_MESSAGE_BYTES: int(32 * 1024, { min: 1 }),
  WS_MAX_FRAME_BYTES: int(1024 * 1024, { min: 1024 }),
  /** Frames a connection may send per second on average, and in one burst. */
  WS_RATE_LIMIT_PER_SECOND: int(5, { min: 1 }),
  WS_RATE_LIMIT_BURST: int(20, { min: 1 }),
  /** Resume: newest events kept per session for exact replay, and the slow-consumer limit. */
  RESUME_BUFFER_EVENTS: int(2_000, { min: 1 }),
  RESUME_BUFFER_BYTES: int(256 * 1024, { min: 1024 }),
  RESUME_HOLD_MS: int(150, { max: 10_000 }),
  WS_MAX_BUFFERED_BYTES: int(4 * 1024 * 1024, { min: 1024 }),
  /** The server pings every socket this often and drops those that did not answer the last ping. */
  WS_PING_INTERVAL_MS: int(30_000, { min: 100 }),
  /** User messages that may wait behind a streaming response. */
  MAX_QUEUED_MESSAGES: int(20, { min: 1 }),
  /** How long a session with no socket stays open before it ends (0 = at once). */
  SESSION_END_GRACE_MS: int(5_000),
  /** Summaries: how long one attempt may take, how often it is retried, and its input budget. */
  SUMMARY_TIMEOUT_SECONDS: int(120, { min: 5, max: 3_600 }),
  SUMMARY_RETRY_LIMIT: int(3, { max: 20 }),
  SUMMARY_RETRY_DELAY_SECONDS: int(5, { max: 3_600 }),
  SUMMARY_INPUT_TOKENS: int(6_000, { min: 200 }),
  /** Job queue housekeeping (pg-boss): poll and supervision intervals. */
  JOB_POLL_INTERVAL_SECONDS: int(2, { min: 1, max: 600 }),
  JOB_SUPERVISE_INTERVAL_SECONDS: int(60, { min: 1, max: 3_600 }),
  /** Crash recovery: each process writes a heartbeat; one silent past the lease is dead. */
  INSTANCE_HEARTBEAT_MS: int(10_000, { min: 100 }),
  INSTANCE_LEASE_MS: int(30_000, { min: 300 }),
  SHUTDOWN_TIMEOUT_MS: int(10_000),
});

export type Env = z.infer<typeof EnvSchema>;

export interface LlmConfig {
  provider: ProviderName;
  model: string;
  baseUrl: string | undefined;
  apiKey: string | undefined;
  maxRetries: number;
  stallTimeoutMs: number;
  maxSteps: number;
  historyTokens: number;
  instructions: string | undefined;
  demoTokenDelayMs: number;
  toolTimeoutMs: number;
}

export interface Config {
  llm: LlmConfig;
  database: {
    url: string | undefined;
    pgliteDir: string;
    poolSize: number;
    flushIntervalMs: number;
  };
  http: { host: string; port: number };
  logLevel: Env['LOG_LEVEL'];
  limits: {
    maxMessageBytes: number;
    maxFrameBytes: number;
    ratePerSecond: number;
    rateBurst: number;
    maxQueuedMessages: number;
    pingIntervalMs: number;
  };
  resume: {
    bufferFrames: number;
    bufferBytes: number;
    maxBufferedBytes: number;
    holdMs: number;
  };
  sessionEndGraceMs: number;
  shutdownTimeoutMs: number;
  summaries: {
    timeoutSeconds: number;
    retryLimit: number;
    retryDelaySeconds: number;
    inputTokens: number;
    pollIntervalSeconds: number;
    superviseIntervalSeconds: number;
  };
  instances: { heartbeatMs: number; leaseMs: number };
}

/**
 * Parses the environment once. A bad value throws an AppError whose message names the variable,
 * so `npm start` fails at once with a sentence a person can act on.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new AppError('invalid_config', {
      message: `Invalid configuration:\n  ${problems.join('\n  ')}`,
    });
  }
  const e = parsed.data;
  const provider = e.LLM_PROVIDER ?? detectProvider(e);
  const apiKey = apiKeyFor(provider, e);
  if (provider === 'openai-compatible' && !e.LLM_BASE_URL) {
    throw new AppError('invalid_config', {
      message:
        'Invalid configuration:\n  LLM_BASE_URL: required when LLM_PROVIDER=openai-compatible (e.g. http://127.0.0.1:11434/v1 for Ollama)',
    });
  }
  if ((provider === 'openai' || provider === 'anthropic' || provider === 'groq') && !apiKey) {
    const variable = `${provider.toUpperCase()}_API_KEY`;
    throw new AppError('invalid_config', {
      message: `Invalid configuration:\n  ${variable}: required when LLM_PROVIDER=${provider}`,
    });
  }
  return {
    llm: {
      provider,
      model: e.LLM_MODEL ?? defaultModels[provider],
      baseUrl: e.LLM_BASE_URL,
      apiKey,
      maxRetries: e.LLM_MAX_RETRIES,
      stallTimeoutMs: e.LLM_STALL_TIMEOUT_MS,
      maxSteps: e.LLM_MAX_STEPS,
      historyTokens: e.LLM_HISTORY_TOKENS,
      instructions: e.LLM_INSTRUCTIONS,
      demoTokenDelayMs: e.DEMO_TOKEN_DELAY_MS,
      toolTimeoutMs: e.TOOL_TIMEOUT_MS,
    },
    database: {
      url: e.DATABASE_URL,
      pgliteDir: e.PGLITE_DIR,
      poolSize: e.DATABASE_POOL_SIZE,
      flushIntervalMs: e.EVENT_FLUSH_INTERVAL_MS,
    },
    http: { host: e.HOST, port: e.PORT },
    logLevel: e.LOG_LEVEL,
    limits: {
      maxMessageBytes: e.MAX_MESSAGE_BYTES,
      maxFrameBytes: e.WS_MAX_FRAME_BYTES,
      ratePerSecond: e.WS_RATE_LIMIT_PER_SECOND,
      rateBurst: e.WS_RATE_LIMIT_BURST,
      maxQueuedMessages: e.MAX_QUEUED_MESSAGES,
      pingIntervalMs: e.WS_PING_INTERVAL_MS,
    },
    resume: {
      bufferFrames: e.RESUME_BUFFER_EVENTS,
      bufferBytes: e.RESUME_BUFFER_BYTES,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      holdMs: e.RESUME_HOLD_MS,
    },
    sessionEndGraceMs: e.SESSION_END_GRACE_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    summaries: {
      timeoutSeconds: e.SUMMARY_TIMEOUT_SECONDS,
      retryLimit: e.SUMMARY_RETRY_LIMIT,
      retryDelaySeconds: e.SUMMARY_RETRY_DELAY_SECONDS,
      inputTokens: e.SUMMARY_INPUT_TOKENS,
      pollIntervalSeconds: e.JOB_POLL_INTERVAL_SECONDS,
      superviseIntervalSeconds: e.JOB_SUPERVISE_INTERVAL_SECONDS,
    },
    instances: { heartbeatMs: e.INSTANCE_HEARTBEAT_MS, leaseMs: e.INSTANCE_LEASE_MS },
  };
}

function detectProvider(e: Env): ProviderName {
  if (e.OPENAI_API_KEY) return 'openai';
  if (e.ANTHROPIC_API_KEY) return 'anthropic';
  if (e.GROQ_API_KEY) return 'groq';
  return 'demo';
}

function apiKeyFor(provider: ProviderName, e: Env): string | undefined {
  switch (provider) {
    case 'openai':
      return e.LLM_API_KEY ?? e.OPENAI_API_KEY;
    case 'anthropic':
      return e.LLM_API_KEY ?? e.ANTHROPIC_API_KEY;
    case 'groq':
      return e.LLM_API_KEY ?? e.GROQ_API_KEY;
    case 'openai-compatible':
      return e.LLM_API_KEY;
    case 'demo':
      return undefined;
  }
}
