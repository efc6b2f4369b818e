import { ChatApp } from './chat-app.tsx';
import { useUserName } from './hooks/use-user-name.ts';
import { WelcomeScreen } from './components/welcome-screen.tsx';

/** Parley's web UI: a user name first, then the chat. */
export function App() {
  const [userId, setUserId, lastName] = useUserName();
  if (userId === undefined) return <WelcomeScreen initial={lastName} onPick={setUserId} />;
  return <ChatApp key={userId} userId={userId} onChangeUser={() => setUserId(undefined)} />;
}
