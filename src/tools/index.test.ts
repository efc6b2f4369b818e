import { describe, expect, it } from 'vitest';
import { builtinTools } from './index.ts';

describe('builtinTools', () => {
  it('registers every tool once, under the names the instructions mention', () => {
    const names = builtinTools.map((tool) => tool.name);
    expect(names).toEqual([
      'get_current_time',
      'calculate',
      'get_system_metrics',
      'get_user_profile',
      'search_past_sessions',
    ]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives each tool a description and an object input schema', () => {
    for (const tool of builtinTools) {
      expect(tool.description.length).toBeGreaterThan(20);
      expect(tool.inputSchema.def.type).toBe('object');
    }
  });
});
