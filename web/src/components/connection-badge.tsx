import type { ConnectionView } from '../conversation/conversation-store.ts';

export type ConnectionLabel = 'connected' | 'connecting' | 'reconnecting' | 'offline';

/**
 * What the user is told about the connection. Without a socket yet (a new conversation, or
 * one read from history), the server counts as connected when it answers HTTP.
 */
export function connectionLabel({
  connection,
  online,
  serverReachable,
}: {
  connection: ConnectionView;
  online: boolean;
  serverReachable: boolean;
}): ConnectionLabel {
  if (!online) return 'offline';
  switch (connection) {
    case 'connected':
      return 'connected';
    case 'connecting':
      return 'connecting';
    case 'reconnecting':
      return 'reconnecting';
    case 'closed':
      return 'offline';
    case 'idle':
      return serverReachable ? 'connected' : 'offline';
  }
}

const text: Record<ConnectionLabel, string> = {
  connected: 'Connected',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export function ConnectionBadge({ label }: { label: ConnectionLabel }) {
  return (
    <span className={`connection connection-${label}`} role="status" aria-live="polite" data-state={label}>
      <span className="connection-dot" aria-hidden="true" />
      {text[label]}
    </span>
  );
}
