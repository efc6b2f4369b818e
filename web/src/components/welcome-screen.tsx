import { useState, type FormEvent } from 'react';
import { UserId } from '../../../src/protocol/index.ts';

/** Asks for the user name that scopes the user's conversations (remembered in this browser). */
export function WelcomeScreen({ initial, onPick }: { initial: string; onPick(name: string): void }) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | undefined>();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = UserId.safeParse(name.trim());
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? 'Invalid name');
      return;
    }
    onPick(parsed.data);
  };
  return (
    <main className="welcome">
      <form className="welcome-card" onSubmit={submit}>
        <h1>Parley</h1>
        <p>Realtime conversations with an AI that can use tools. Pick a user name to keep your conversations together.</p>
        <label htmlFor="user-name">Your user name</label>
        <input
          id="user-name"
          value={name}
          onChange={(event) => {
            setName(event.target.value);
            setError(undefined);
          }}
          autoComplete="username"
          autoFocus
          aria-invalid={error !== undefined}
          aria-describedby="user-name-hint"
        />
        <p id="user-name-hint" className={error ? 'hint error' : 'hint'}>
          {error ?? 'Letters, digits and _ . @ : - (up to 128). Anyone who uses the same name sees the same conversations.'}
        </p>
        <button type="submit">Continue</button>
      </form>
    </main>
  );
}
