import { ChatApp } from './chat-app.tsx';
import { useUserName } from './hooks/use-user-name.ts';
import { WelcomeScreen } from './components/welcome-screen.tsx';

/** Parley's web UI: a user name first, then the chat. */
export function App() {
  const [userId, setUserId, lastName] = useUserName();
  if (userId === undefined) return <WelcomeScreen initial={lastName} onPick={setUserId} />;
  const changeUser = () => {
    // Another user's conversations are not this one's: start from the top.
    history.replaceState(null, '', '/');
    setUserId(undefined);
  };
  return <ChatApp key={userId} userId={userId} onChangeUser={changeUser} />;
}
