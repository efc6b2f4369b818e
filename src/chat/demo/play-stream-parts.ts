/**
 * Paced, abortable playback of the demo model's stream parts.
 */
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';

/**
 * Plays the parts back, pausing before each text delta after the first. An abort ends the stream
 * at once with an AbortError: streamText recognises it (by name) and emits its `abort` part.
 */
export function playStreamParts({
  parts,
  tokenDelayMs,
  abortSignal,
}: {
  parts: LanguageModelV4StreamPart[];
  tokenDelayMs: number;
  abortSignal: AbortSignal | undefined;
}): ReadableStream<LanguageModelV4StreamPart> {
  let next = 0;
  let deltasSent = 0;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  const stop = () => {
    finished = true;
    clearTimeout(timer);
    wake?.();
    abortSignal?.removeEventListener('abort', onAbort);
  };
  let onAbort = () => {};

  return new ReadableStream<LanguageModelV4StreamPart>({
    start(controller) {
      onAbort = () => {
        if (finished) return;
        stop();
        controller.error(toAbortError(abortSignal));
      };
      if (abortSignal?.aborted) onAbort();
      else abortSignal?.addEventListener('abort', onAbort, { once: true });
    },
    async pull(controller) {
      if (finished) return;
      const part = parts[next];
      if (part === undefined) {
        stop();
        controller.close();
        return;
      }
      if (part.type === 'text-delta' && deltasSent++ > 0 && tokenDelayMs > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, tokenDelayMs);
        });
        if (finished) return;
      }
      controller.enqueue(part);
      next += 1;
    },
    cancel() {
      stop();
    },
  });
}

function toAbortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && (reason.name === 'AbortError' || reason.name === 'TimeoutError')) {
    return reason;
  }
  const error = new Error('The demo model stream was aborted.', { cause: reason });
  error.name = 'AbortError';
  return error;
}
