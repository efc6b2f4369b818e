/**
 * Parley's one error type. `code` is stable and machine-readable; HTTP responses and WebSocket
 * `error` events are derived from it in one place each.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    options: {
      message: string;
      status?: number;
      cause?: unknown;
      details?: Record<string, unknown>;
    },
  ) {
    super(options.message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? 500;
    this.details = options.details;
  }
}

/** The message of anything thrown, for logs and error events. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
