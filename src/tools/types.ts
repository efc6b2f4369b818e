import type { z } from 'zod';
import type { Database } from '../db/connect.ts';

/** Live figures of this server that tools may report. */
export interface ServerStats {
  activeSessions(): number;
  connectedSockets(): number;
}

/** What a tool gets besides its arguments: who asked, where, and how to stop. */
export interface ToolContext {
  userId: string;
  sessionId: string;
  db: Database;
  /** Aborted when the response is cancelled or the tool's time is up. */
  signal: AbortSignal;
  stats: ServerStats;
}

/**
 * A server-side tool the model can call. `execute` returns a JSON-serializable result or throws
 * an Error whose message the model and the client will see.
 */
export interface ParleyTool<Schema extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  inputSchema: Schema;
  execute(input: z.infer<Schema>, context: ToolContext): Promise<unknown>;
}

/** Identity helper that keeps a tool's input type tied to its schema. */
export function defineTool<Schema extends z.ZodType>(tool: ParleyTool<Schema>): ParleyTool<Schema> {
  return tool;
}

/** An error a tool raises on purpose: its message is meant for the model and the user. */
export class ToolError extends Error {
  override name = 'ToolError';
}
