import { ClientFrame, clientFrameTypes, ErrorCode, type ErrorBody } from '../protocol/index.ts';

export type InboundResult = { ok: true; frame: ClientFrame } | { ok: false; error: ErrorBody };

/**
 * Parses one WebSocket message into a client frame. A text frame that is not JSON is taken as a
 * user message, as the simplest clients send plain text; JSON that is not a known frame is an
 * error the client is told about, never an exception.
 */
export function parseInbound(data: Buffer | string, isBinary: boolean): InboundResult {
  if (isBinary) {
    return fail(
      ErrorCode.binaryNotSupported,
      'Binary frames are not supported; send JSON text frames.',
    );
  }
  const text = typeof data === 'string' ? data : data.toString('utf8');
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[') && !trimmed.startsWith('"')) {
    return { ok: true, frame: { type: 'user.message', text } };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(ErrorCode.invalidJson, 'The frame looks like JSON but does not parse.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail(ErrorCode.invalidFrame, 'A frame must be a JSON object with a "type".');
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== 'string' || !(clientFrameTypes as string[]).includes(type)) {
    return fail(
      ErrorCode.unknownType,
      `Unknown frame type ${JSON.stringify(type ?? null)}; expected one of ${clientFrameTypes.join(', ')}.`,
    );
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'frame';
    return fail(
      ErrorCode.invalidFrame,
      `Invalid ${type} frame: ${field}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return { ok: true, frame: parsed.data };
}

function fail(code: string, message: string): InboundResult {
  return { ok: false, error: { code, message } };
}

/** A token bucket: `burst` frames at once, refilled at `perSecond`. */
export class RateLimiter {
  #tokens: number;
  #updatedAt = performance.now();
  readonly #perSecond: number;
  readonly #burst: number;

  constructor({ perSecond, burst }: { perSecond: number; burst: number }) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#tokens = burst;
  }

  tryTake(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#updatedAt) / 1000) * this.#perSecond,
    );
    this.#updatedAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
