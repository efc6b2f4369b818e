/**
 * Parley's built-in offline demo model: what answers when no LLM key is configured. It is a
 * deterministic rule-based stand-in that speaks the AI SDK's LanguageModelV4 spec, so the whole
 * token path (streamText → session → socket) and the tools run unchanged without a network.
 *
 * It must never pass for an LLM: its own replies say that they come from the demo model, and
 * everything it says about tools is read straight from the tools' results.
 */
import { randomUUID } from 'node:crypto';
import type { LanguageModelV4, LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { planDemoTurn, type DemoPlan } from './plan-turn.ts';
import { playStreamParts } from './play-stream-parts.ts';
import { contentOf, finishReasonOf, streamPartsOf, usageOf } from './stream-parts.ts';
import { writeDemoSummary } from './summary.ts';

export type { DemoToolCall } from './intents.ts';
export { planDemoTurn, type DemoPlan } from './plan-turn.ts';
export { writeDemoSummary } from './summary.ts';

export interface DemoModelOptions {
  /** Pause between two streamed words, so the stream looks (and cancels) like a real one. */
  tokenDelayMs?: number;
}

/**
 * Creates the demo model. Besides chat turns it answers structured-output calls
 * (`responseFormat.type === 'json'`) with a session summary, see {@link writeDemoSummary}.
 */
export function createDemoModel({ tokenDelayMs = 35 }: DemoModelOptions = {}): LanguageModelV4 {
  return {
    specificationVersion: 'v4',
    provider: 'parley-demo',
    modelId: 'parley-demo-1',
    supportedUrls: {},

    async doGenerate(options) {
      options.abortSignal?.throwIfAborted();
      const plan = planCall(options);
      return {
        content: contentOf(plan),
        finishReason: finishReasonOf(plan),
        usage: usageOf(options.prompt, plan),
        warnings: [],
        response: { id: `demo-${randomUUID()}`, modelId: 'parley-demo-1', timestamp: new Date() },
      };
    },

    async doStream(options) {
      const plan = planCall(options);
      const parts = streamPartsOf({ prompt: options.prompt, plan });
      return { stream: playStreamParts({ parts, tokenDelayMs, abortSignal: options.abortSignal }) };
    },
  };
}

function planCall(options: LanguageModelV4CallOptions): DemoPlan {
  if (options.responseFormat?.type === 'json') {
    const summary = writeDemoSummary(options.prompt, options.responseFormat.schema);
    return { kind: 'text', text: JSON.stringify(summary) };
  }
  return planDemoTurn(options.prompt, availableToolNames(options));
}

function availableToolNames({ tools = [], toolChoice }: LanguageModelV4CallOptions): string[] {
  const names = tools.filter((tool) => tool.type === 'function').map((tool) => tool.name);
  if (toolChoice?.type === 'none') return [];
  if (toolChoice?.type === 'tool') return names.filter((name) => name === toolChoice.toolName);
  return names;
}
