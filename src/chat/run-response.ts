import { APICallError, isStepCount, RetryError, streamText, type ModelMessage } from 'ai';
import { ErrorCode, type ErrorBody, type Usage } from '../protocol/index.ts';
import { errorMessage } from '../errors.ts';
import { runCompletions } from './completions.ts';
import { attempts, upstreamFailure } from './upstream-errors.ts';
import type { ChatModel } from './models.ts';
import { toAiToolSet, type ResponseTool } from './tool-set.ts';

/** Where one response's live output goes, part by part, as it arrives. */
export interface ResponseSink {
  textDelta(delta: string): void;
  toolCall(call: { callId: string; name: string; input: unknown }): void;
  toolResult(result: { callId: string; name: string; result?: unknown; error?: ErrorBody }): void;
}

export type ResponseOutcome =
  | { status: 'completed'; text: string; finishReason: string; usage: Usage }
  | { status: 'cancelled'; text: string; usage: Usage }
  | { status: 'failed'; text: string; error: ErrorBody; usage: Usage };

export interface RunResponseOptions {
  chatModel: ChatModel;
  instructions: string;
  messages: ModelMessage[];
  tools: readonly ResponseTool[];
  maxSteps: number;
  maxRetries: number;
  stallTimeoutMs: number;
  /** Aborted by the session: the client cancelled, the session ended, or the server stops. */
  signal: AbortSignal;
  sink: ResponseSink;
}

/**
 * Runs one response: several steps of model output and tool calls, relayed to the sink as they
 * arrive. OpenAI-compatible servers go through Parley's lean client (`completions.ts`); every
 * other provider through the AI SDK's `streamText`. It never throws for upstream trouble; every
 * ending is an outcome.
 */
export async function runResponse(options: RunResponseOptions): Promise<ResponseOutcome> {
  if (options.chatModel.completions) {
    return runCompletions({ ...options, endpoint: options.chatModel.completions });
  }
  return runWithAiSdk(options);
}

async function runWithAiSdk(options: RunResponseOptions): Promise<ResponseOutcome> {
  const { chatModel, sink, signal } = options;
  let text = '';
  let usage: Usage = { input_tokens: 0, output_tokens: 0 };
  let failure: ErrorBody | undefined;
  let aborted = false;
  let finishReason = 'stop';

  const result = streamText({
    model: chatModel.model,
    instructions: options.instructions,
    messages: options.messages,
    tools: toAiToolSet(options.tools),
    stopWhen: isStepCount(options.maxSteps),
    maxRetries: options.maxRetries,
    abortSignal: signal,
    timeout: { firstChunkMs: options.stallTimeoutMs, chunkMs: options.stallTimeoutMs },
    // The stream's `error` part carries every failure; without this the SDK also prints it.
    onError: () => {},
  });

  try {
    for await (const part of result.stream) {
      switch (part.type) {
        case 'text-delta':
          if (part.text.length === 0) break;
          text += part.text;
          sink.textDelta(part.text);
          break;
        case 'tool-call':
          sink.toolCall({ callId: part.toolCallId, name: part.toolName, input: part.input });
          break;
        case 'tool-result':
          sink.toolResult({ callId: part.toolCallId, name: part.toolName, result: part.output });
          break;
        case 'tool-error':
          sink.toolResult({
            callId: part.toolCallId,
            name: part.toolName,
            error: { code: ErrorCode.toolError, message: errorMessage(part.error) },
          });
          break;
        case 'finish-step':
          usage = addUsage(usage, part.usage);
          break;
        case 'finish':
          finishReason = part.finishReason;
          break;
        case 'abort':
          aborted = true;
          break;
        case 'error':
          failure = describeUpstreamError(part.error);
          break;
        default:
          break;
      }
    }
  } catch (error) {
    // The SDK reports failures as parts; reaching here means something outside it broke.
    if (signal.aborted) aborted = true;
    else failure ??= describeUpstreamError(error);
  }

  if (signal.aborted) return { status: 'cancelled', text, usage };
  if (aborted && !failure) failure = upstreamFailure.stalled(options.stallTimeoutMs);
  if (failure) return { status: 'failed', text, error: failure, usage };
  return { status: 'completed', text, finishReason, usage };
}

function addUsage(
  total: Usage,
  step: { inputTokens: number | undefined; outputTokens: number | undefined },
): Usage {
  return {
    input_tokens: total.input_tokens + (step.inputTokens ?? 0),
    output_tokens: total.output_tokens + (step.outputTokens ?? 0),
  };
}

/** Maps an AI SDK failure to a stable code the client can act on. */
export function describeUpstreamError(error: unknown): ErrorBody {
  const last = RetryError.isInstance(error) ? error.lastError : error;
  const tried = attempts(RetryError.isInstance(error) ? error.errors.length : 1);
  if (APICallError.isInstance(last)) {
    const status = last.statusCode;
    if (status === 429) return upstreamFailure.rateLimited(tried);
    // No status: the connection failed. A 2xx whose body broke off: the same, mid-stream.
    if (status === undefined) return upstreamFailure.unreachable(last.message, tried);
    if (status >= 200 && status < 300) return upstreamFailure.brokeOff(last.message);
    return upstreamFailure.httpStatus(status, last.message, tried);
  }
  const cause =
    last instanceof Error && last.cause !== undefined ? ` (${errorMessage(last.cause)})` : '';
  const message = `${errorMessage(last)}${cause}`;
  if (/fetch failed|ECONNREFUSED|ECONNRESET|socket|terminated|network/i.test(message)) {
    return upstreamFailure.unreachable(message, tried);
  }
  return upstreamFailure.other(message);
}
