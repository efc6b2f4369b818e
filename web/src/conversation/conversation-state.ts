/**
 * What the chat shows, rebuilt from protocol events: user messages and the model's responses,
 * each response a sequence of text and tool calls in the order they happened. Pure functions
 * over immutable data: an event changes only the items it touches, so only those re-render.
 */
import { connectionEventTypes, type ErrorBody, type ServerEvent } from '../../../src/protocol/index.ts';

/**
 * Where a user message is: `sending` (typed here, not yet acknowledged), `queued` (stored,
 * waiting behind a response that is still streaming), `delivered` (stored and being or been
 * answered), `failed` (the server refused it, or it was lost with the connection).
 */
export type Delivery = 'sending' | 'queued' | 'delivered' | 'failed';

export interface UserMessage {
  kind: 'user';
  /** Stable across the message's life (a local key first, kept when the server names it). */
  key: string;
  messageId: string | undefined;
  text: string;
  delivery: Delivery;
  error?: string;
}

export interface ToolCall {
  callId: string;
  name: string;
  arguments: unknown;
  status: 'running' | 'done' | 'error';
  result?: unknown;
  error?: ErrorBody;
  durationMs?: number;
}

export type ResponsePart = { kind: 'text'; text: string } | { kind: 'tool'; call: ToolCall };

export type ResponseStatus = 'streaming' | 'completed' | 'cancelled' | 'failed' | 'interrupted';

export interface AssistantMessage {
  kind: 'assistant';
  key: string;
  responseId: string;
  messageId: string | undefined;
  parts: readonly ResponsePart[];
  /** All text parts joined: what the server calls the response's text. */
  text: string;
  status: ResponseStatus;
  error?: ErrorBody;
  cancelReason?: string;
}

export type ConversationItem = UserMessage | AssistantMessage;

export interface ConversationState {
  items: readonly ConversationItem[];
  /** The highest session event seq applied; events at or below it are repeats. */
  lastSeq: number;
}

export const emptyConversation: ConversationState = { items: [], lastSeq: 0 };

/** Applies one server event; returns the same state object when nothing changed. */
export function applyEvent(state: ConversationState, event: ServerEvent): ConversationState {
  const isSessionEvent = !connectionEventTypes.has(event.type);
  if (isSessionEvent && event.seq <= state.lastSeq) return state;
  const next = isSessionEvent ? { ...state, lastSeq: event.seq } : state;
  switch (event.type) {
    case 'message.created':
      return userMessageCreated(next, event);
    case 'response.started':
      return responseStarted(next, event.response_id, event.message_id);
    case 'response.text.delta':
      return updateResponse(next, event.response_id, (response) => appendText(response, event.delta));
    case 'tool.call':
      return updateResponse(next, event.response_id, (response) => addToolCall(response, event));
    case 'tool.result':
      return updateResponse(next, event.response_id, (response) => addToolResult(response, event));
    case 'response.snapshot':
      return updateResponse(next, event.response_id, (response) => ({
        ...setText(response, event.text),
        status: event.status,
      }));
    case 'response.completed':
      return updateResponse(next, event.response_id, (response) => ({
        ...setText(response, event.text),
        status: 'completed',
      }));
    case 'response.cancelled':
      return updateResponse(next, event.response_id, (response) => ({
        ...setText(response, event.text),
        status: 'cancelled',
        cancelReason: event.reason,
      }));
    case 'response.failed':
      return updateResponse(next, event.response_id, (response) => ({
        ...setText(response, event.text),
        status: 'failed',
        error: event.error,
      }));
    default:
      return next;
  }
}

/** Shows a message the user just sent, before the server has acknowledged it. */
export function addLocalMessage(state: ConversationState, { key, text }: { key: string; text: string }): ConversationState {
  const message: UserMessage = { kind: 'user', key, messageId: undefined, text, delivery: 'sending' };
  return { ...state, items: [...state.items, message] };
}

/** Marks a message that the server has not acknowledged as failed (or sending again). */
export function setDelivery(
  state: ConversationState,
  key: string,
  delivery: 'sending' | 'failed',
  error?: string,
): ConversationState {
  return updateItems(state, (item) =>
    item.kind === 'user' && item.key === key && item.messageId === undefined
      ? { ...item, delivery, ...(error === undefined ? { error: undefined } : { error }) }
      : item,
  );
}

/**
 * For a session shown from history with no live connection: a response without an ending is
 * not streaming any more, and nothing waits.
 */
export function settleHistory(state: ConversationState): ConversationState {
  return updateItems(state, (item) => {
    if (item.kind === 'assistant' && item.status === 'streaming') return { ...item, status: 'interrupted' };
    if (item.kind === 'user' && item.delivery === 'queued') return { ...item, delivery: 'delivered' };
    return item;
  });
}

/** The response that is streaming now, if any. */
export function streamingResponse(state: ConversationState): AssistantMessage | undefined {
  for (let index = state.items.length - 1; index >= 0; index -= 1) {
    const item = state.items[index]!;
    if (item.kind === 'assistant' && item.status === 'streaming') return item;
  }
  return undefined;
}

/** Keys of the messages typed here that the server has not acknowledged yet, oldest first. */
export function unacknowledged(state: ConversationState): UserMessage[] {
  return state.items.filter(
    (item): item is UserMessage => item.kind === 'user' && item.messageId === undefined && item.delivery === 'sending',
  );
}

// ---------------------------------------------------------------- helpers

function updateItems(
  state: ConversationState,
  update: (item: ConversationItem) => ConversationItem,
): ConversationState {
  let changed = false;
  const items = state.items.map((item) => {
    const updated = update(item);
    if (updated !== item) changed = true;
    return updated;
  });
  return changed ? { ...state, items } : state;
}

function userMessageCreated(
  state: ConversationState,
  event: Extract<ServerEvent, { type: 'message.created' }>,
): ConversationState {
  const delivery: Delivery = event.queued ? 'queued' : 'delivered';
  if (state.items.some((item) => item.kind === 'user' && item.messageId === event.message_id)) return state;
  // The acknowledgement of a message typed here: the oldest unacknowledged one with this text.
  const index = state.items.findIndex(
    (item) => item.kind === 'user' && item.messageId === undefined && item.text === event.text,
  );
  if (index >= 0) {
    const local = state.items[index] as UserMessage;
    const items = [...state.items];
    items[index] = { ...local, messageId: event.message_id, delivery, error: undefined };
    return { ...state, items };
  }
  const message: UserMessage = {
    kind: 'user',
    key: event.message_id,
    messageId: event.message_id,
    text: event.text,
    delivery,
  };
  return { ...state, items: [...state.items, message] };
}

function responseStarted(state: ConversationState, responseId: string, messageId: string): ConversationState {
  if (findResponse(state, responseId) >= 0) return state;
  const items = [...state.items];
  const questionIndex = items.findIndex((item) => item.kind === 'user' && item.messageId === messageId);
  if (questionIndex >= 0) {
    const question = items[questionIndex] as UserMessage;
    if (question.delivery !== 'delivered') items[questionIndex] = { ...question, delivery: 'delivered' };
  }
  // The answer goes after its question, before messages that still wait for their turn.
  let insertAt = items.length;
  for (let index = questionIndex + 1; index < items.length; index += 1) {
    const item = items[index]!;
    if (item.kind === 'user' && item.delivery !== 'delivered') {
      insertAt = index;
      break;
    }
  }
  items.splice(insertAt, 0, newResponse(responseId, messageId));
  return { ...state, items };
}

function newResponse(responseId: string, messageId: string | undefined): AssistantMessage {
  return { kind: 'assistant', key: responseId, responseId, messageId, parts: [], text: '', status: 'streaming' };
}

function findResponse(state: ConversationState, responseId: string): number {
  for (let index = state.items.length - 1; index >= 0; index -= 1) {
    const item = state.items[index]!;
    if (item.kind === 'assistant' && item.responseId === responseId) return index;
  }
  return -1;
}

function updateResponse(
  state: ConversationState,
  responseId: string,
  update: (response: AssistantMessage) => AssistantMessage,
): ConversationState {
  const items = [...state.items];
  let index = findResponse(state, responseId);
  if (index < 0) {
    // Its start is not in what we have (a partial history): show it at the end.
    items.push(newResponse(responseId, undefined));
    index = items.length - 1;
  }
  const response = items[index] as AssistantMessage;
  const updated = update(response);
  if (updated === response) return state;
  items[index] = updated;
  return { ...state, items };
}

function appendText(response: AssistantMessage, delta: string): AssistantMessage {
  if (delta === '') return response;
  const parts = [...response.parts];
  const last = parts.at(-1);
  if (last?.kind === 'text') parts[parts.length - 1] = { kind: 'text', text: last.text + delta };
  else parts.push({ kind: 'text', text: delta });
  return { ...response, parts, text: response.text + delta };
}

/**
 * Sets a response's whole text (a snapshot or its ending). Text that only extends what is
 * shown is appended; otherwise the text parts are replaced by one, after the tool calls.
 */
function setText(response: AssistantMessage, text: string): AssistantMessage {
  if (text === response.text) return response;
  if (text.startsWith(response.text)) return appendText(response, text.slice(response.text.length));
  const tools = response.parts.filter((part) => part.kind === 'tool');
  const parts: ResponsePart[] = text === '' ? tools : [...tools, { kind: 'text', text }];
  return { ...response, parts, text };
}

function addToolCall(
  response: AssistantMessage,
  event: Extract<ServerEvent, { type: 'tool.call' }>,
): AssistantMessage {
  if (response.parts.some((part) => part.kind === 'tool' && part.call.callId === event.call_id)) return response;
  const call: ToolCall = { callId: event.call_id, name: event.name, arguments: event.arguments, status: 'running' };
  return { ...response, parts: [...response.parts, { kind: 'tool', call }] };
}

function addToolResult(
  response: AssistantMessage,
  event: Extract<ServerEvent, { type: 'tool.result' }>,
): AssistantMessage {
  const finished = (call: ToolCall): ToolCall => ({
    ...call,
    status: event.error ? 'error' : 'done',
    result: event.result,
    ...(event.error ? { error: event.error } : {}),
    durationMs: event.duration_ms,
  });
  const index = response.parts.findIndex((part) => part.kind === 'tool' && part.call.callId === event.call_id);
  if (index < 0) {
    const call = finished({ callId: event.call_id, name: event.name, arguments: undefined, status: 'running' });
    return { ...response, parts: [...response.parts, { kind: 'tool', call }] };
  }
  const parts = [...response.parts];
  parts[index] = { kind: 'tool', call: finished((parts[index] as { kind: 'tool'; call: ToolCall }).call) };
  return { ...response, parts };
}
