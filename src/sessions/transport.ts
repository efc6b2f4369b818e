/**
 * What a live session needs from a client connection. The WebSocket route adapts `ws` sockets
 * to it; tests and other transports can supply their own.
 */
export interface Connection {
  /** Unique per connection, for logs. */
  readonly id: string;
  /** Sends one serialized event. Must not throw. */
  send(frame: string): void;
  /** Bytes sent but not yet taken by the network: how far the client is behind. */
  readonly bufferedAmount: number;
  /** Closes the connection with a WebSocket close code and a short reason. */
  close(code: number, reason: string): void;
}
