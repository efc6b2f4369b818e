import { ErrorCode, type ErrorBody } from '../protocol/index.ts';

/**
 * What a client is told when the model provider fails, in the same words whichever client
 * (Parley's Chat Completions client or the AI SDK) talked to it. `tried` is `attempts(n)`.
 */
export const upstreamFailure = {
  stalled: (ms: number): ErrorBody => ({
    code: ErrorCode.upstreamTimeout,
    message: `The model sent nothing for ${ms} ms; the request was abandoned.`,
  }),
  rateLimited: (tried = ''): ErrorBody => ({
    code: ErrorCode.upstreamRateLimited,
    message: `The model provider is rate limiting requests${tried}.`,
  }),
  unreachable: (detail: string, tried = ''): ErrorBody => ({
    code: ErrorCode.upstreamUnavailable,
    message: `The model provider could not be reached${tried}: ${truncate(detail)}`,
  }),
  brokeOff: (detail: string): ErrorBody => ({
    code: ErrorCode.upstreamUnavailable,
    message: `The connection to the model provider broke off mid-stream: ${truncate(detail)}`,
  }),
  httpStatus: (status: number, detail: string, tried = ''): ErrorBody => ({
    code: ErrorCode.upstreamError,
    message: `The model provider answered HTTP ${status}${tried}: ${truncate(detail)}`,
  }),
  other: (message: string): ErrorBody => ({
    code: ErrorCode.upstreamError,
    message: truncate(message),
  }),
};

/** `" (after N attempts)"` when a request was tried more than once. */
export function attempts(count: number): string {
  return count > 1 ? ` (after ${count} attempts)` : '';
}

export function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
