/**
 * The registry of Parley's built-in tools. Adding a tool is one file beside this one, exporting a
 * `defineTool(...)` value, and one entry in `builtinTools`.
 */
import { calculate } from './calculate.ts';
import { getCurrentTime } from './get-current-time.ts';
import { getSystemMetrics } from './get-system-metrics.ts';
import { getUserProfile } from './get-user-profile.ts';
import { searchPastSessions } from './search-past-sessions.ts';

export const builtinTools = [
  getCurrentTime,
  calculate,
  getSystemMetrics,
  getUserProfile,
  searchPastSessions,
] as const;

export { calculate, getCurrentTime, getSystemMetrics, getUserProfile, searchPastSessions };
export { defineTool, ToolError } from './types.ts';
export type { ParleyTool, ServerStats, ToolContext } from './types.ts';
