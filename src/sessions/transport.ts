/**
 * What a live session needs from a client connection. The WebSocket route adapts `ws` sockets
 * to it; tests and other transports can supply their own.
 */
export interface Connection {
  /** Unique per connection, for logs. */
  readonly id: string;
  /** Sends one serialized event. Must not throw. */
  send(frame: string): void;
  /** Closes the connection with a WebSocket close code and a short reason. */
  close(code: number, reason: string): void;
}
