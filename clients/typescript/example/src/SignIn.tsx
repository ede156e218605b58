import { LogInDocument, SignUpDocument } from '@messenger/client';
import { useState, type FormEvent } from 'react';

import { request, type Session } from './api';

export function SignIn({ onSession }: { onSession(s: Session): void }) {
  const [mode, setMode] = useState<'signUp' | 'logIn'>('signUp');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const auth =
        mode === 'signUp'
          ? (await request(SignUpDocument, { input: { username, password, displayName: displayName || username } })).signUp
          : (await request(LogInDocument, { input: { username, password } })).logIn;
      onSession({ token: auth.token, userId: auth.user.id, username: auth.user.username, displayName: auth.user.displayName });
    } catch (err) {
      setError(String((err as Error).message ?? err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="signin" onSubmit={submit} aria-label={mode === 'signUp' ? 'Sign up' : 'Log in'}>
      <h1>Messenger</h1>
      <label>
        Username
        <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
      </label>
      {mode === 'signUp' && (
        <label>
          Display name
          <input name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </label>
      )}
      <label>
        Password
        <input name="password" type="password" autoComplete={mode === 'signUp' ? 'new-password' : 'current-password'} value={password} onChange={(e) => setPassword(e.target.value)} required minLength={8} />
      </label>
      <button type="submit" disabled={busy}>
        {mode === 'signUp' ? 'Sign up' : 'Log in'}
      </button>
      <button type="button" className="link" onClick={() => setMode(mode === 'signUp' ? 'logIn' : 'signUp')}>
        {mode === 'signUp' ? 'I have an account' : 'Create an account'}
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
