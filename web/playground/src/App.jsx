import { useEffect, useMemo, useRef, useState } from 'react';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { EVENT_LOG_LIMIT, EventLog, describeResult } from './EventLog.jsx';
import { SessionContext, peoplePlugin } from './UserPicker.jsx';
import { createConnection, loadSession, saveSession, signUp, logIn, logOut, me, refresh, refreshDelay } from './api.js';
import { defaultTabs } from './examples.js';

function describeError(err) {
  if (err && err.code) return `${err.message} (${err.code})`;
  return String((err && err.message) || err);
}

/**
 * Sign-in panel: sign up / log in / log out, or paste a token. It reports the
 * new session (or null) through onSession.
 */
function AuthPanel({ session, onSession }) {
  const [username, setUsername] = useState(session ? session.username : '');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [tokenText, setTokenText] = useState(session ? session.token : '');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setTokenText(session ? session.token : '');
  }, [session]);

  async function run(action) {
    setBusy(true);
    setError('');
    try {
      await action();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  const adopt = (payload) => {
    setPassword('');
    onSession({ token: payload.token, refreshToken: payload.refreshToken, username: payload.user.username, userId: payload.user.id });
  };

  const doSignUp = () =>
    run(async () => {
      const name = username.trim();
      adopt(await signUp(name, password, displayName.trim() || name));
    });

  const doLogIn = () => run(async () => adopt(await logIn(username.trim(), password)));

  const doLogOut = () => {
    setError('');
    setPassword('');
    if (session && session.refreshToken) logOut(session.token);
    onSession(null);
  };

  const applyToken = () =>
    run(async () => {
      const token = tokenText.trim().replace(/^Bearer\s+/i, '');
      if (!token) {
        onSession(null);
        return;
      }
      const user = await me(token);
      onSession({ token, username: user.username, userId: user.id });
    });

  const submit = (e) => {
    e.preventDefault();
    doLogIn();
  };

  return (
    <form className="pg-panel" onSubmit={submit} aria-label="Sign in">
      <strong className="pg-title">Messenger playground</strong>
      <label>
        Username
        <input id="pg-username" autoComplete="username" value={username}
          onChange={(e) => setUsername(e.target.value)} />
      </label>
      <label>
        Password
        <input id="pg-password" type="password" autoComplete="current-password" value={password}
          onChange={(e) => setPassword(e.target.value)} />
      </label>
      <label>
        Display name
        <input id="pg-displayname" autoComplete="nickname" placeholder="(sign up only)" value={displayName}
          onChange={(e) => setDisplayName(e.target.value)} />
      </label>
      <button id="pg-signup" type="button" disabled={busy} onClick={doSignUp}>Sign up</button>
      <button id="pg-login" type="submit" disabled={busy}>Log in</button>
      <button id="pg-logout" type="button" disabled={busy || !session} onClick={doLogOut}>Log out</button>
      <label className="pg-token">
        Token
        <input id="pg-token" spellCheck="false" autoComplete="off" placeholder="paste a token" value={tokenText}
          onChange={(e) => setTokenText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              applyToken();
            }
          }} />
      </label>
      <button id="pg-token-use" type="button" disabled={busy} onClick={applyToken}>Use token</button>
      <div id="pg-status" role="status" aria-live="polite">
        <span id="pg-state" className={session ? 'pg-ok' : ''}>
          {session ? `Signed in as ${session.username}` : 'Not signed in'}
        </span>
        {error ? <span id="pg-error" className="pg-error">{error}</span> : null}
      </div>
    </form>
  );
}

const plugins = [HISTORY_PLUGIN, peoplePlugin];

/** The playground: sign-in panel above GraphiQL and the event log. */
export function App() {
  const [session, setSession] = useState(loadSession);
  const [events, setEvents] = useState([]);
  const [notice, setNotice] = useState('');
  const nextId = useRef(1);
  const token = session ? session.token : '';

  // One HTTP fetcher + graphql-ws client per token. A new user gets a new
  // websocket (connection_init carries the new token); the old one is closed.
  const connection = useMemo(
    () =>
      createConnection(token, {
        onEvent: (result) => {
          const entry = { id: nextId.current++, at: new Date(), ...describeResult(result) };
          setEvents((list) => [entry, ...list].slice(0, EVENT_LOG_LIMIT));
        },
        onNotice: setNotice,
      }),
    [token],
  );
  useEffect(() => () => connection.dispose(), [connection]);

  // Access tokens last minutes: refresh one a minute before it expires, so
  // the helper stays signed in for as long as the refresh token lasts.
  useEffect(() => {
    const delay = refreshDelay(session);
    if (delay === null) return undefined;
    const timer = window.setTimeout(async () => {
      try {
        const next = await refresh(session.refreshToken);
        onSession({ ...session, token: next.token, refreshToken: next.refreshToken });
      } catch (err) {
        onSession(null);
        setNotice(`Your session ended (${(err && err.code) || 'refresh failed'}): log in again with the sign-in helper above.`);
      }
    }, delay);
    return () => window.clearTimeout(timer);
  }, [session]);

  const onSession = (s) => {
    saveSession(s);
    setSession(s);
    setNotice('');
  };

  return (
    <div className="pg-root">
      <AuthPanel session={session} onSession={onSession} />
      <div className="pg-main">
        <div className="pg-graphiql">
          <SessionContext.Provider value={session}>
            <GraphiQL fetcher={connection.fetcher} defaultTabs={defaultTabs} defaultEditorToolsVisibility="variables"
              shouldPersistHeaders={false} plugins={plugins}>
              {/* Replaces the default logo, a link to github.com. */}
              <GraphiQL.Logo>Messenger</GraphiQL.Logo>
            </GraphiQL>
          </SessionContext.Provider>
        </div>
        <EventLog entries={events} notice={notice} onClear={() => setEvents([])} />
      </div>
    </div>
  );
}
