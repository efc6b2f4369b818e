import { createAnthropic } from '@ai-sdk/anthropic';
import { createGroq } from '@ai-sdk/groq';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import type { LlmConfig } from '../config.ts';
import type { CompletionsEndpoint } from './completions.ts';
import { createDemoModel } from './demo/index.ts';

/** The configured model plus what clients are told about it in `session.ready`. */
export interface ChatModel {
  model: LanguageModel;
  provider: string;
  modelId: string;
  /** True for Parley's offline demo model, which is not an LLM. */
  demo: boolean;
  /**
   * Set for OpenAI-compatible servers and Groq: responses stream through Parley's lean Chat
   * Completions client instead of `streamText` (see `completions.ts`). `model` still serves
   * summaries.
   */
  completions?: CompletionsEndpoint;
}

/** Builds the language model named by the configuration. */
export function createChatModel(llm: LlmConfig): ChatModel {
  const common = { provider: llm.provider, modelId: llm.model, demo: false };
  switch (llm.provider) {
    case 'openai': {
      const openai = createOpenAI({ apiKey: llm.apiKey, baseURL: llm.baseUrl });
      return { ...common, model: openai(llm.model) };
    }
    case 'anthropic': {
      const anthropic = createAnthropic({ apiKey: llm.apiKey, baseURL: llm.baseUrl });
      return { ...common, model: anthropic(llm.model) };
    }
    case 'groq': {
      const groq = createGroq({ apiKey: llm.apiKey, baseURL: llm.baseUrl });
      // Groq speaks Chat Completions, so responses take Parley's lean client too.
      return {
        ...common,
        model: groq(llm.model),
        completions: {
          baseUrl: llm.baseUrl ?? 'https://api.groq.com/openai/v1',
          apiKey: llm.apiKey,
          model: llm.model,
        },
      };
    }
    case 'openai-compatible': {
      const baseUrl = llm.baseUrl ?? 'http://127.0.0.1:11434/v1';
      const compatible = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: baseUrl,
        apiKey: llm.apiKey,
        // Without it the SDK asks for no usage and token totals stay empty.
        includeUsage: true,
      });
      return {
        ...common,
        model: compatible.chatModel(llm.model),
        completions: { baseUrl, apiKey: llm.apiKey, model: llm.model },
      };
    }
    case 'demo':
      return {
        provider: 'demo',
        modelId: llm.model,
        demo: true,
        model: createDemoModel({ tokenDelayMs: llm.demoTokenDelayMs }),
      };
  }
}
