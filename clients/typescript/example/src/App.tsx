import { ApolloProvider } from '@apollo/client/react';
import { useEffect, useMemo, useState } from 'react';

import { connect, type Session } from './api';
import { Chat } from './Chat';
import { SignIn } from './SignIn';

const sessionKey = 'messenger.session';

function saved(): Session | null {
  const raw = sessionStorage.getItem(sessionKey);
  return raw ? (JSON.parse(raw) as Session) : null;
}

export function App() {
  const [session, setSession] = useState<Session | null>(saved);
  const conn = useMemo(() => (session ? connect(session) : null), [session]);
  useEffect(() => () => conn?.close(), [conn]);

  if (!session || !conn) {
    return (
      <SignIn
        onSession={(s) => {
          sessionStorage.setItem(sessionKey, JSON.stringify(s));
          setSession(s);
        }}
      />
    );
  }
  return (
    <ApolloProvider client={conn.apollo}>
      <Chat
        session={session}
        conn={conn}
        onSignOut={() => {
          sessionStorage.removeItem(sessionKey);
          setSession(null);
        }}
      />
    </ApolloProvider>
  );
}
