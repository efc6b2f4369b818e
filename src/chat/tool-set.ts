import { tool, type ToolSet } from 'ai';
import type { z } from 'zod';
import type { ParleyTool, ToolContext } from '../tools/types.ts';
import { ToolError } from '../tools/types.ts';

/** A Parley tool bound to one response: its context, its deadline and its timing are set. */
export interface ResponseTool {
  name: string;
  description: string;
  inputSchema: z.ZodType;
  /** Runs one call with validated input; rejects with the error the model and client will see. */
  run(input: unknown, call: { callId: string; signal: AbortSignal | undefined }): Promise<unknown>;
}

export interface ToolSetOptions {
  tools: readonly ParleyTool[];
  context: Omit<ToolContext, 'signal'>;
  timeoutMs: number;
  /** Called with each call's wall-clock duration, before its result reaches the stream. */
  onDuration(callId: string, durationMs: number): void;
}

/**
 * Binds Parley's tools to one response. Each call gets its own deadline: a tool that ignores
 * its AbortSignal still cannot hold the response past it.
 */
export function createToolSet({
  tools,
  context,
  timeoutMs,
  onDuration,
}: ToolSetOptions): ResponseTool[] {
  return tools.map((parleyTool) => ({
    name: parleyTool.name,
    description: parleyTool.description,
    inputSchema: parleyTool.inputSchema,
    async run(input, { callId, signal }) {
      const started = performance.now();
      try {
        return await runWithDeadline(parleyTool, input, context, timeoutMs, signal);
      } finally {
        onDuration(callId, performance.now() - started);
      }
    },
  }));
}

/** The same tools as an AI SDK tool set, for `streamText`. */
export function toAiToolSet(tools: readonly ResponseTool[]): ToolSet {
  const set: ToolSet = {};
  for (const responseTool of tools) {
    set[responseTool.name] = tool({
      description: responseTool.description,
      inputSchema: responseTool.inputSchema,
      execute: (input: unknown, { toolCallId, abortSignal }) =>
        responseTool.run(input, { callId: toolCallId, signal: abortSignal }),
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
