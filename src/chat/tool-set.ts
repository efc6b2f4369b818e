import { tool, type ToolSet } from 'ai';
import type { ParleyTool, ToolContext } from '../tools/types.ts';
import { ToolError } from '../tools/types.ts';

export interface ToolSetOptions {
  tools: readonly ParleyTool[];
  context: Omit<ToolContext, 'signal'>;
  timeoutMs: number;
  /** Called with each call's wall-clock duration, before its result reaches the stream. */
  onDuration(callId: string, durationMs: number): void;
}

/**
 * Turns Parley's tools into an AI SDK tool set bound to one response. Each call gets its own
 * deadline: a tool that ignores its AbortSignal still cannot hold the response past it.
 */
export function createToolSet({ tools, context, timeoutMs, onDuration }: ToolSetOptions): ToolSet {
  const set: ToolSet = {};
  for (const parleyTool of tools) {
    set[parleyTool.name] = tool({
      description: parleyTool.description,
      inputSchema: parleyTool.inputSchema,
      execute: async (input: unknown, { toolCallId, abortSignal }) => {
        const started = performance.now();
        try {
          return await runWithDeadline(parleyTool, input, context, timeoutMs, abortSignal);
        } finally {
          onDuration(toolCallId, performance.now() - started);
        }
      },
    });
  }
  return set;
}

async function runWithDeadline(
  parleyTool: ParleyTool,
  input: unknown,
  context: Omit<ToolContext, 'signal'>,
  timeoutMs: number,
  responseSignal: AbortSignal | undefined,
): Promise<unknown> {
  const deadline = new AbortController();
  const signal = responseSignal
    ? AbortSignal.any([responseSignal, deadline.signal])
    : deadline.signal;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ToolError(`${parleyTool.name} timed out after ${timeoutMs} ms`);
      deadline.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([parleyTool.execute(input, { ...context, signal }), expired]);
  } finally {
    clearTimeout(timer);
  }
}
