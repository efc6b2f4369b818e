/** What the HTTP API and the sessions need from the summary job queue. */
export interface SummaryQueue {
  /**
   * Queues a (re)summary of an ended session now, marks it `summary_status = 'pending'`, and
   * returns the job id. A session that is still active is summarized when it ends instead.
   */
  requestSummary(sessionId: string): Promise<{ jobId: string | null }>;
  /** Removes a session's queued summary job, if any (used when the session is deleted). */
  cancelSummary(sessionId: string): Promise<void>;
}
