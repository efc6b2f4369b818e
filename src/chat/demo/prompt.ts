/**
 * Reading the prompt the AI SDK hands the demo model: the user's words, the latest tool results,
 * and all of its text (for token counts).
 */
import type { LanguageModelV4Prompt, LanguageModelV4ToolResultOutput } from '@ai-sdk/provider';

export function promptText(prompt: LanguageModelV4Prompt): string {
  const pieces: string[] = [];
  for (const message of prompt) {
    if (message.role === 'system') {
      pieces.push(message.content);
      continue;
    }
    for (const part of message.content) {
      if (part.type === 'text' || part.type === 'reasoning') pieces.push(part.text);
      else if (part.type === 'tool-call')
        pieces.push(part.toolName, JSON.stringify(part.input) ?? '');
      else if (part.type === 'tool-result') pieces.push(part.toolName, JSON.stringify(part.output));
    }
  }
  return pieces.join('\n');
}

export function lastUserText(prompt: LanguageModelV4Prompt): string {
  for (let index = prompt.length - 1; index >= 0; index -= 1) {
    const message = prompt[index];
    if (message?.role === 'user') return userText(message.content);
  }
  return '';
}

export function userText(
  content: Extract<LanguageModelV4Prompt[number], { role: 'user' }>['content'],
) {
  return content
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join('\n')
    .trim();
}

/** The tool results answering the latest step: those of the tool messages at the end. */
export function trailingToolResults(prompt: LanguageModelV4Prompt) {
  const results: { toolName: string; output: LanguageModelV4ToolResultOutput }[] = [];
  for (let index = prompt.length - 1; index >= 0; index -= 1) {
    const message = prompt[index];
    if (message?.role !== 'tool') break;
    const parts = message.content.flatMap((part) => (part.type === 'tool-result' ? [part] : []));
    results.unshift(...parts);
  }
  return results;
}

/** Tool outputs and transcript lines may be JSON, or may be plain text. */
export function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
