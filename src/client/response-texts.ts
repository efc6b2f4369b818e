import type { ServerEvent } from '../protocol/index.ts';

export interface ResponseText {
  responseId: string;
  text: string;
  status: 'streaming' | 'completed' | 'cancelled' | 'failed' | 'interrupted';
}

/**
 * Rebuilds each response's text from events: deltas append, a snapshot replaces, the event
 * that ends a response sets its final text. Feeding it every event a client receives (live,
 * replayed, after reconnects) gives exactly the server's text.
 */
export class ResponseTexts {
  readonly #responses = new Map<string, ResponseText>();

  apply(event: ServerEvent): ResponseText | undefined {
    switch (event.type) {
      case 'response.started':
        return this.#entry(event.response_id);
      case 'response.text.delta': {
        const entry = this.#entry(event.response_id);
        entry.text += event.delta;
        return entry;
      }
      case 'response.snapshot': {
        const entry = this.#entry(event.response_id);
        entry.text = event.text;
        entry.status = event.status;
        return entry;
      }
      case 'response.completed':
      case 'response.cancelled':
      case 'response.failed': {
        const entry = this.#entry(event.response_id);
        entry.text = event.text;
        entry.status =
          event.type === 'response.completed'
            ? 'completed'
            : event.type === 'response.cancelled'
              ? 'cancelled'
              : 'failed';
        return entry;
      }
      default:
        return undefined;
    }
  }

  get(responseId: string): ResponseText | undefined {
    return this.#responses.get(responseId);
  }

  #entry(responseId: string): ResponseText {
    let entry = this.#responses.get(responseId);
    if (!entry)
      this.#responses.set(responseId, (entry = { responseId, text: '', status: 'streaming' }));
    return entry;
  }
}
