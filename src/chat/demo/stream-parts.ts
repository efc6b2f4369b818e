/**
 * What the demo model sends for a plan: the content of a generate call, the parts of a stream
 * (text word by word, or tool calls), its finish reason and its token usage.
 */
import { randomUUID } from 'node:crypto';
import type {
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';
import type { DemoPlan } from './plan-turn.ts';
import { promptText } from './prompt.ts';

/** The content of a `doGenerate` result: the text, or one tool call per planned call. */
export function contentOf(plan: DemoPlan): LanguageModelV4Content[] {
  return plan.kind === 'text'
    ? [{ type: 'text', text: plan.text }]
    : plan.calls.map((call) => ({
        type: 'tool-call',
        toolCallId: newToolCallId(),
        toolName: call.toolName,
        input: JSON.stringify(call.input),
      }));
}

/** Every part of a `doStream` result, from `stream-start` to `finish`. */
export function streamPartsOf({
  prompt,
  plan,
}: {
  prompt: LanguageModelV4Prompt;
  plan: DemoPlan;
}): LanguageModelV4StreamPart[] {
  const parts: LanguageModelV4StreamPart[] = [
    { type: 'stream-start', warnings: [] },
    {
      type: 'response-metadata',
      id: `demo-${randomUUID()}`,
      modelId: 'parley-demo-1',
      timestamp: new Date(),
    },
  ];
  if (plan.kind === 'text') {
    parts.push({ type: 'text-start', id: 'text-0' });
    for (const delta of splitWords(plan.text))
      parts.push({ type: 'text-delta', id: 'text-0', delta });
    parts.push({ type: 'text-end', id: 'text-0' });
  } else {
    for (const call of plan.calls) {
      const id = newToolCallId();
      const input = JSON.stringify(call.input);
      parts.push(
        { type: 'tool-input-start', id, toolName: call.toolName },
        { type: 'tool-input-delta', id, delta: input },
        { type: 'tool-input-end', id },
        { type: 'tool-call', toolCallId: id, toolName: call.toolName, input },
      );
    }
  }
  parts.push({
    type: 'finish',
    finishReason: finishReasonOf(plan),
    usage: usageOf(prompt, plan),
  });
  return parts;
}

/** Each word with the whitespace after it: the deltas concatenate back to `text` exactly. */
function splitWords(text: string): string[] {
  return text.match(/^\s*\S+\s*|\S+\s*/g) ?? (text === '' ? [] : [text]);
}

function newToolCallId(): string {
  return `call_demo_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
}

export function finishReasonOf(plan: DemoPlan): LanguageModelV4FinishReason {
  return plan.kind === 'text'
    ? { unified: 'stop', raw: 'stop' }
    : { unified: 'tool-calls', raw: 'tool_calls' };
}

/** Rough but stable: a token is about four characters of prompt, one word of reply. */
export function usageOf(prompt: LanguageModelV4Prompt, plan: DemoPlan): LanguageModelV4Usage {
  const input = Math.ceil(promptText(prompt).length / 4);
  const output =
    plan.kind === 'text'
      ? splitWords(plan.text).length
      : plan.calls.reduce((sum, call) => sum + Math.ceil(JSON.stringify(call.input).length / 4), 0);
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
  };
}
