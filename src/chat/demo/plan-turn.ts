/**
 * One step of the demo model: call tools, or answer in text.
 */
import type { LanguageModelV4Prompt } from '@ai-sdk/provider';
import { detectIntents, type DemoToolCall } from './intents.ts';
import { lastUserText, trailingToolResults } from './prompt.ts';
import { demoReply } from './replies.ts';
import { describeToolOutput } from './tool-answers.ts';

/** What the demo model does in one step: call tools (in parallel) or answer in text. */
export type DemoPlan =
  { kind: 'tool-calls'; calls: DemoToolCall[] } | { kind: 'text'; text: string };

/**
 * Decides the demo model's next step from the prompt alone (pure and deterministic):
 * - the last message holds tool results → a text answer built from them;
 * - the last user message asks for the time, a calculation, the server metrics, the user's
 *   profile or a search of past sessions → calls to those of `availableTools` that fit;
 * - anything else → a short, clearly labelled demo reply (a long one if it says "long answer").
 */
export function planDemoTurn(prompt: LanguageModelV4Prompt, availableTools: string[]): DemoPlan {
  const last = prompt.at(-1);
  if (last?.role === 'tool') {
    const answers = trailingToolResults(prompt).map((result) =>
      describeToolOutput(result.toolName, result.output),
    );
    if (answers.length > 0) return { kind: 'text', text: answers.join(' ') };
  }

  const message = lastUserText(prompt);
  const intents = detectIntents(message);
  const calls = intents.filter((intent) => availableTools.includes(intent.call.toolName));
  if (calls.length > 0) return { kind: 'tool-calls', calls: calls.map((intent) => intent.call) };

  const missing = [...new Set(intents.map((intent) => intent.call.toolName))];
  return { kind: 'text', text: demoReply({ message, availableTools, missingTools: missing }) };
}
