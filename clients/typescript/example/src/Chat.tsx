import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import {
  ConversationsDocument,
  CreateDirectConversationDocument,
  SearchUsersDocument,
  type ConversationFieldsFragment,
  type Event,
} from '@messenger/client';
import { useEffect, useState, type FormEvent } from 'react';

import type { Connection, Session } from './api';
import { ConversationView } from './ConversationView';

/** Who is typing where: conversation id -> user id -> [name, until]. */
export type Typing = Record<string, Record<string, [string, number]>>;

/** A conversation's name: its title, or the other member of a direct one. */
export function nameOf(c: ConversationFieldsFragment, me: string): string {
  if (c.title) return c.title;
  const other = c.members.edges.find((e) => e.node.id !== me)?.node;
  return other?.displayName ?? 'Conversation';
}

export function Chat({ session, conn, onSignOut }: { session: Session; conn: Connection; onSignOut(): void }) {
  const { data, error } = useQuery(ConversationsDocument, { variables: { first: 50 } });
  const [open, setOpen] = useState<string | null>(null);
  const [typing, setTyping] = useState<Typing>({});
  const [live, setLive] = useState(false);
  useEffect(() => conn.onLive(setLive), [conn]);

  // Typing is ephemeral: it lives here, not in the cache.
  useEffect(
    () =>
      conn.listen((e: Event) => {
        if (e.__typename !== 'TypingUpdated' || e.user.id === session.userId) return;
        const until = e.typing ? (e.expiresAt ? Date.parse(e.expiresAt) : Date.now() + 5000) : 0;
        setTyping((t) => ({ ...t, [e.conversationId]: { ...t[e.conversationId], [e.user.id]: [e.user.displayName, until] } }));
      }),
    [conn, session.userId],
  );
  // Let expired typing indicators disappear.
  const [, tick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(id);
  }, []);

  const conversations = data?.conversations.edges.map((e) => e.node) ?? [];
  const current = conversations.find((c) => c.id === open) ?? null;

  return (
    <div className="chat">
      <aside>
        <header>
          <span data-testid="me">
            Signed in as <b>{session.displayName}</b> (@{session.username})
          </span>
          <span className={live ? 'live' : 'offline'} data-testid="live" data-live={live}>
            {live ? '● live' : '○ connecting…'}
          </span>
          <button className="link" onClick={onSignOut}>
            Sign out
          </button>
        </header>
        <StartChat onStarted={setOpen} />
        {error && <p className="error">{error.message}</p>}
        <ul className="conversations" aria-label="Conversations">
          {conversations.map((c) => (
            <li key={c.id}>
              <button className={c.id === open ? 'selected' : ''} onClick={() => setOpen(c.id)} data-testid="conversation">
                <span className="name">{nameOf(c, session.userId)}</span>
                {c.unreadCount > 0 && (
                  <span className="badge" data-testid="unread" aria-label={`${c.unreadCount} unread`}>
                    {c.unreadCount}
                  </span>
                )}
                <span className="preview">{c.lastMessage ? (c.lastMessage.body ?? 'Message deleted') : 'No messages yet'}</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <main>
        {current ? (
          <ConversationView key={current.id} conversation={current} session={session} typing={typing[current.id] ?? {}} />
        ) : (
          <p className="empty">Pick a conversation, or start one with a username.</p>
        )}
      </main>
    </div>
  );
}

function StartChat({ onStarted }: { onStarted(id: string): void }) {
  const client = useApolloClient();
  const [username, setUsername] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [create] = useMutation(CreateDirectConversationDocument);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      // Network-only: a new account reaches user search within moments.
      const { data } = await client.query({ query: SearchUsersDocument, variables: { query: username, first: 5 }, fetchPolicy: 'network-only' });
      const found = data?.searchUsers.edges.map((e) => e.node).find((u) => u.username.toLowerCase() === username.toLowerCase());
      if (!found) {
        setError(`No user @${username} (yet)`);
        return;
      }
      const res = await create({ variables: { userId: found.id } });
      if (res.data) {
        onStarted(res.data.createDirectConversation.id);
        setUsername('');
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="start" onSubmit={submit} aria-label="Start a chat">
      <input placeholder="Start a chat with @username" value={username} onChange={(e) => setUsername(e.target.value)} name="peer" />
      <button type="submit" disabled={busy || username.trim().length === 0}>
        Start
      </button>
      {error && <span className="error">{error}</span>}
    </form>
  );
}
