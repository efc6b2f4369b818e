import type { LanguageModelV4Prompt } from '@ai-sdk/provider';
import { generateText, Output } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDemoModel } from './index.ts';
import { writeDemoSummary } from './summary.ts';

function userSays(text: string): LanguageModelV4Prompt {
  return [{ role: 'user', content: [{ type: 'text', text }] }];
}

describe('demo model structured output', () => {
  const Summary = z.object({
    summary: z.string(),
    title: z.string(),
    topics: z.array(z.string()),
    tools_used: z.array(z.string()),
  });

  it('writes a summary that parses against the schema', async () => {
    const transcript = [
      'Summarize this session.',
      'Transcript:',
      'user: what time is it in Tokyo?',
      'tool_call: get_current_time {"timezone":"Asia/Tokyo"}',
      'tool_result: {"timezone":"Asia/Tokyo"}',
      'assistant: It is 22:03 in Tokyo.',
      'user: thanks! and what is a good pizza dough recipe?',
    ].join('\n');
    const { output } = await generateText({
      model: createDemoModel(),
      output: Output.object({ schema: Summary }),
      prompt: transcript,
    });

    expect(output.title).toBe('What time is it in Tokyo');
    expect(output.summary).toContain('2 messages');
    expect(output.summary).toContain('"what time is it in Tokyo?"');
    expect(output.tools_used).toEqual(['get_current_time']);
    expect(output.topics).toContain('pizza');
  });

  it('summarises an empty transcript, and keeps only the keys the schema lists', () => {
    const summary = writeDemoSummary(userSays('Summarize this session.\nTranscript:\n'), {
      type: 'object',
      properties: { summary: { type: 'string' }, title: { type: 'string' } },
    });
    expect(summary).toEqual({
      summary: 'No messages were exchanged in this session.',
      title: 'Empty session',
    });
  });
});
